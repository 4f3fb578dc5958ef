/**
 * `npm run psp`: the PSP simulator alone.
 *
 * Environment: PSP_PORT (4010; 0 = any free port), PSP_HOST (127.0.0.1), PSP_DATA_DIR (.data/psp),
 * PSP_LATENCY_MS ("0", "50" or "20-80"), PSP_FAILURE_RATE (0..1), PSP_HANG_MS (60000), LOG_LEVEL.
 * Flags override them: --port, --host, --data-dir, --latency, --failure-rate, --hang-ms.
 *
 * Prints one JSON log line with `"event":"listening"` and the port once it accepts requests.
 * SIGTERM / SIGINT: stops listening, finishes the log writes, exits 0.
 */
import { parseArgs } from 'node:util';
import { createLogger } from '../infra/logger.js';
import { parseFailureRate, parseLatency, pspOptionsFromEnv, startPspServer, wholeNumber } from '../settlement/index.js';

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

const psp = await startPspServer({ ...opts, log });
// Machine-readable readiness line (test/psp.ts waits for it), independent of LOG_LEVEL.
process.stdout.write(JSON.stringify({ event: 'listening', port: psp.port, url: psp.url, pid: process.pid }) + '\n');

let stopping = false;
async function stop(signal: string) {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, 'PSP simulator stopping');
  await psp.close();
  process.exit(0);
}
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));
