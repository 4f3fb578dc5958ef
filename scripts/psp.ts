/**
 * `npm run psp`: the PSP simulator alone.
 *
 * Environment: PSP_PORT (4010; 0 = any free port), PSP_HOST (127.0.0.1), PSP_DATA_DIR (.data/psp),
 * PSP_LATENCY_MS ("0", "50" or "20-80"), PSP_FAILURE_RATE (0..1), PSP_HANG_MS (60000), LOG_LEVEL.
 * Flags override them: --port, --host, --data-dir, --latency, --failure-rate, --hang-ms.
 *
 * When the default port 4010 is taken (another clone's simulator), it takes a free port. The URL it got is
 * recorded in DATA_DIR/services.json (unless --data-dir or PSP_DATA_DIR is given), where `npm run worker` and `npm start -- --no-psp` find it.
 *
 * Prints one JSON log line with `"event":"listening"` and the port once it accepts requests.
 * SIGTERM / SIGINT: stops listening, finishes the log writes, exits 0.
 */
import { parseArgs } from 'node:util';
import { createLogger } from '../infra/logger.js';
import { recorded, recordProcess } from '../infra/services.js';
import { failed, onStopSignal } from '../infra/shutdown.js';
import { parseFailureRate, parseLatency, pspOptionsFromEnv, startPspServer, wholeNumber, type PspServer } from '../settlement/index.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    host: { type: 'string' },
    'data-dir': { type: 'string' },
    latency: { type: 'string' },
    'failure-rate': { type: 'string' },
    'hang-ms': { type: 'string' },
  },
});

const log = createLogger(process.env.LOG_LEVEL ?? 'info', 'psp');
const opts = pspOptionsFromEnv(process.env);
if (values.port !== undefined) opts.port = wholeNumber(values.port, '--port', 4010, 65535);
if (values.host !== undefined) opts.host = values.host;
if (values['data-dir'] !== undefined) opts.dataDir = values['data-dir'];
if (values.latency !== undefined) opts.latencyMs = parseLatency(values.latency);
if (values['failure-rate'] !== undefined) opts.failureRate = parseFailureRate(values['failure-rate']);
if (values['hang-ms'] !== undefined) opts.hangMs = wholeNumber(values['hang-ms'], '--hang-ms', 60_000);

const portGiven = values.port !== undefined || !!process.env.PSP_PORT;
const dataDir = process.env.DATA_DIR ?? '.data';
const isRecorded = values['data-dir'] === undefined && !process.env.PSP_DATA_DIR;
let psp: PspServer;
try {
  const running = isRecorded ? recorded(dataDir, 'psp') : undefined;
  if (running) throw new Error(`the PSP simulator of ${dataDir} already runs at ${running.url} (pid ${running.pid}): use that one, or give this one --data-dir`);
  try {
    psp = await startPspServer({ ...opts, log });
  } catch (err) {
    if (portGiven || !/port is in use/.test((err as Error).message)) throw err;
    log.info(`port ${opts.port} is taken; taking a free port`);
    psp = await startPspServer({ ...opts, port: 0, log });
  }
  // Recorded only when it keeps its data in the data dir's own place (tests give it a dir of its own).
  if (isRecorded) {
    await recordProcess(dataDir, 'psp', { url: psp.url });
  }
} catch (err) {
  failed('npm run psp', err);
}
// Machine-readable readiness line (test/psp.ts waits for it), independent of LOG_LEVEL.
process.stdout.write(JSON.stringify({ event: 'listening', port: psp.port, url: psp.url, pid: process.pid }) + '\n');

onStopSignal(async (signal) => {
  log.info({ signal }, 'PSP simulator stopping');
  await psp.close();
  if (isRecorded) await recordProcess(dataDir, 'psp', undefined);
});
