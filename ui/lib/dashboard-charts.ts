/**
 * The live dashboard's charts: uPlot (bundled by ui/build.ts; its stylesheet becomes
 * /assets/dashboard.css), each a time series of the last 10 minutes of console samples.
 */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface Series {
  key: string;
  label: string;
  color: string;
}

export interface Chart {
  setData(samples: Array<Record<string, unknown>>, now: number): void;
  resize(width: number): void;
}

export const WINDOW_S = 600;

export function lineChart(el: HTMLElement, title: string, series: Series[], width: number): Chart {
  const plot = new uPlot(
    {
      title,
      width,
      height: 180,
      legend: { live: false },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true }, y: { range: (_u, min, max) => [0, Math.max(1, max * 1.1, min)] } },
      axes: [{ stroke: '#6e6e73', grid: { stroke: '#eee' } }, { stroke: '#6e6e73', grid: { stroke: '#eee' }, size: 50 }],
      series: [{}, ...series.map((s) => ({ label: s.label, stroke: s.color, width: 2, points: { show: false } }))],
    },
    [[], ...series.map(() => [])],
    el,
  );
  return {
    setData(samples, now) {
      const xs = samples.map((s) => (s.t as number) / 1000);
      const data: uPlot.AlignedData = [xs, ...series.map((s) => samples.map((x) => (typeof x[s.key] === 'number' ? (x[s.key] as number) : null)))];
      plot.setData(data, false);
      // The last 10 minutes at most; a younger feed fills the width from its first sample (at least 30 s).
      const first = xs.length ? xs[0] : now / 1000;
      plot.setScale('x', { min: Math.max(now / 1000 - WINDOW_S, Math.min(first, now / 1000 - 30)), max: now / 1000 });
    },
    resize(w) {
      plot.setSize({ width: w, height: 180 });
    },
  };
}
