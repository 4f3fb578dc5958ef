/**
 * A memory probe for the queue benchmark's gateways (diagnostics only, off by default). With
 * `--probe=<dir>` (env QUEUE_PROBE) bench/queue.ts loads this file into every gateway
 * (`node --import ./bench/queue-probe.ts`), which appends one JSON line a second to
 * `<dir>/gateway-<pid>.jsonl`: process.memoryUsage(), V8's heap spaces (committed and resident), the GC
 * counts by kind since start, and every 5 s the process's resident memory by kind of mapping from
 * /proc/self/smaps (malloc's main heap, other anonymous memory, files).
 */
import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import { PerformanceObserver } from 'node:perf_hooks';
import v8 from 'node:v8';

const dir = process.env.QUEUE_PROBE_DIR;
if (dir) {
  mkdirSync(dir, { recursive: true });
  const file = `${dir}/gateway-${process.pid}.jsonl`;
  const gc: Record<string, number> = {};
  const gcMs: Record<string, number> = {};
  const kinds: Record<number, string> = { 1: 'minor', 2: 'major', 4: 'incremental', 8: 'weak', 16: 'other' };
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = kinds[(e as unknown as { detail?: { kind?: number } }).detail?.kind ?? 16] ?? 'other';
      gc[kind] = (gc[kind] ?? 0) + 1;
      gcMs[kind] = +((gcMs[kind] ?? 0) + e.duration).toFixed(1);
    }
  }).observe({ entryTypes: ['gc'] });

  /** Resident kB by kind of mapping: [heap] (brk), anonymous (V8 pages, malloc arenas and mmaps, uWS), files. */
  const smaps = () => {
    const out = { heap: 0, anon: 0, file: 0, other: 0 };
    let kind: keyof typeof out = 'other';
    for (const line of readFileSync('/proc/self/smaps', 'utf8').split('\n')) {
      if (/^[0-9a-f]+-[0-9a-f]+ /.test(line)) {
        const name = line.split(/\s+/)[5] ?? '';
        kind = name === '[heap]' ? 'heap' : name === '' ? 'anon' : name.startsWith('/') ? 'file' : 'other';
      } else if (line.startsWith('Rss:')) out[kind] += Number(line.split(/\s+/)[1]);
    }
    return out;
  };

  const mb = (n: number) => +(n / 2 ** 20).toFixed(2);
  let n = 0;
  setInterval(() => {
    const m = process.memoryUsage();
    const spaces: Record<string, [number, number, number]> = {};
    for (const s of v8.getHeapSpaceStatistics()) {
      if (s.space_size > 0) spaces[s.space_name.replace('_space', '')] = [mb(s.space_size), mb(s.physical_space_size), mb(s.space_used_size)];
    }
    const line = {
      t: Date.now(),
      rss: mb(m.rss),
      heapTotal: mb(m.heapTotal),
      heapUsed: mb(m.heapUsed),
      external: mb(m.external),
      arrayBuffers: mb(m.arrayBuffers),
      /** name: [committed MB, resident MB, used MB] */
      spaces,
      gc: { ...gc },
      gcMs: { ...gcMs },
      ...(n++ % 5 === 0 ? { smapsKB: smaps() } : {}),
    };
    appendFileSync(file, JSON.stringify(line) + '\n');
  }, 1000).unref();
}
