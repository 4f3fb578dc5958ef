/**
 * `npm run bench:psp`: how many charges per second the PSP simulator sustains, measured from a client
 * process with the engine's own HttpPaymentProvider (undici Pool, keep-alive). The simulator runs as a
 * child process (as `npm run psp` would), with its durable log (write + fdatasync per batch) on.
 *
 * Scenarios (each on a fresh simulator and data dir, BENCH_RUNS times, default 3; medians reported):
 *   undici/0ms   HttpPaymentProvider, zero simulator latency, 128 requests in flight
 *   fetch/0ms    the same load through Node's global fetch (why the provider uses undici's Pool directly)
 *   undici/50ms  HttpPaymentProvider, 50 ms simulator latency, 512 requests in flight
 * Every charge uses a new idempotency key; afterwards the simulator must report exactly as many charges as
 * the client saw succeed (zero duplicates, none lost).
 *
 * Writes bench/results/psp.json. BENCH_SECONDS (default 5) sets the measured window per run.
 */
import { readFileSync } from 'node:fs';
import { writeResults } from './settings.js';
import { cpus, loadavg } from 'node:os';
import { HttpPaymentProvider } from '../settlement/psp-client.js';
import { startPsp } from '../test/psp.js';

const runs = Number(process.env.BENCH_RUNS ?? 3);
const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const warmupSeconds = 1;

interface Scenario {
  name: string;
  client: 'undici' | 'fetch';
  latencyMs: number;
  inFlight: number;
}
const scenarios: Scenario[] = [
  { name: 'undici/0ms', client: 'undici', latencyMs: 0, inFlight: 128 },
  { name: 'fetch/0ms', client: 'fetch', latencyMs: 0, inFlight: 128 },
  { name: 'undici/50ms', client: 'undici', latencyMs: 50, inFlight: 512 },
];

interface Result {
  chargesPerSec: number;
  p50: number;
  p99: number;
  errors: number;
  /** Simulator CPU time (user + system) per 1,000 charges, ms. */
  pspCpuMsPer1000: number;
  duplicates: number;
}

const cpuTicks = (pid: number) => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return Number(fields[11]) + Number(fields[12]); // utime + stime, in clock ticks (100/s)
};

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function runOnce(s: Scenario, run: number): Promise<Result> {
  const psp = await startPsp({ latencyMs: s.latencyMs });
  const provider = new HttpPaymentProvider({ url: psp.url, timeoutMs: 10_000, connections: s.inFlight });
  const viaFetch = async (key: string) => {
    const res = await fetch(`${psp.url}/v1/charges`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': key },
      body: JSON.stringify({ amountCents: 1999, paymentMethod: 'pm_card_ok' }),
    });
    if (res.status !== 200) throw new Error(`status ${res.status}`);
    await res.json();
  };
  const charge = s.client === 'fetch' ? viaFetch : (key: string) => provider.charge({ idempotencyKey: key, amountCents: 1999, paymentMethod: 'pm_card_ok' });

  let seq = 0;
  let ok = 0;
  let errors = 0;
  let measuring = false;
  let stop = false;
  let measuredOk = 0;
  const latencies: number[] = [];
  const loop = async () => {
    while (!stop) {
      const key = `bench-${run}-${seq++}`;
      const t0 = performance.now();
      try {
        await charge(key);
        ok++;
        if (measuring) {
          measuredOk++;
          latencies.push(performance.now() - t0);
        }
      } catch {
        errors++;
      }
    }
  };
  const loops = Array.from({ length: s.inFlight }, loop);
  await new Promise((r) => setTimeout(r, warmupSeconds * 1000));
  const cpu0 = cpuTicks(psp.pid()!);
  const t0 = performance.now();
  measuring = true;
  await new Promise((r) => setTimeout(r, seconds * 1000));
  measuring = false;
  const elapsed = (performance.now() - t0) / 1000;
  const cpu1 = cpuTicks(psp.pid()!);
  stop = true;
  await Promise.all(loops);
  const stats = await psp.stats();
  await provider.close();
  await psp.cleanup();
  latencies.sort((a, b) => a - b);
  const result: Result = {
    chargesPerSec: Math.round(measuredOk / elapsed),
    p50: Math.round(pct(latencies, 0.5) * 10) / 10,
    p99: Math.round(pct(latencies, 0.99) * 10) / 10,
    errors,
    pspCpuMsPer1000: Math.round((((cpu1 - cpu0) * 10) / measuredOk) * 1000 * 10) / 10,
    duplicates: stats.charges.created - ok,
  };
  console.log(`${s.name} run ${run + 1}: ${JSON.stringify(result)}`);
  return result;
}

const all: Record<string, Result[]> = {};
for (let run = 0; run < runs; run++) {
  for (const s of scenarios) (all[s.name] ??= []).push(await runOnce(s, run));
}
const medians = Object.fromEntries(
  Object.entries(all).map(([name, rs]) => [
    name,
    {
      chargesPerSec: median(rs.map((r) => r.chargesPerSec)),
      p50: median(rs.map((r) => r.p50)),
      p99: median(rs.map((r) => r.p99)),
      pspCpuMsPer1000: median(rs.map((r) => r.pspCpuMsPer1000)),
    },
  ]),
);
const duplicates = Object.values(all).flat().reduce((n, r) => n + Math.max(0, r.duplicates), 0);
const lost = Object.values(all).flat().reduce((n, r) => n + Math.max(0, -r.duplicates), 0);
const report = {
  benchmark: 'psp',
  date: new Date().toISOString(),
  machine: { cpus: cpus().length, model: cpus()[0]?.model.trim(), node: process.version, loadavg: loadavg().map((x) => Math.round(x * 100) / 100) },
  settings: { runs, durationSeconds: seconds, warmupSeconds, scenarios },
  medians,
  ratios: {
    undiciOverFetch: Math.round((medians['undici/0ms']!.chargesPerSec / medians['fetch/0ms']!.chargesPerSec) * 100) / 100,
    zeroLatencyOverTarget: Math.round((medians['undici/0ms']!.chargesPerSec / 5000) * 100) / 100,
    /** Simulator CPU share one core would need at 5,000 charges/s. */
    pspCoreShareAt5000PerSec: Math.round(medians['undici/0ms']!.pspCpuMsPer1000 * 5) / 1000,
  },
  targets: { zeroLatencyChargesPerSec: '>= 5000 (well over)' },
  duplicates,
  lost,
  runs: all,
};
writeResults('psp', report, [
  `PSP simulator charges per second, medians of ${runs} runs of ${seconds} s.`,
  '',
  '| scenario | charges/s | p50 ms | p99 ms | simulator CPU ms per 1,000 |',
  '| --- | --- | --- | --- | --- |',
  ...Object.entries(medians).map(([k, v]) => `| ${k} | ${v.chargesPerSec} | ${v.p50} | ${v.p99} | ${v.pspCpuMsPer1000} |`),
  '',
  `Duplicates: ${duplicates}; lost: ${lost}.`,
]);
console.log(JSON.stringify({ medians, ratios: report.ratios, duplicates, lost }, null, 2));
