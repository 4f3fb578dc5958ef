/**
 * How a command ends. `onStopSignal` runs the command's own shutdown on the first SIGINT or SIGTERM, with
 * a time limit, then exits; a second signal, or the limit, exits at once. Either way the `exit` hooks run
 * (the services record is left and self-started services are stopped when this was their last user), so a
 * Ctrl-C leaves nothing running, also when Redis or Postgres died and the shutdown cannot finish cleanly.
 * `failed` turns a start-up error into one clear line on stderr and exit code 1.
 */
export function onStopSignal(shutdown: (signal: NodeJS.Signals) => Promise<void>, graceMs = 20_000): void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) {
      process.stderr.write(`${signal} again: exiting now\n`);
      process.exit(130);
    }
    stopping = true;
    const limit = setTimeout(() => {
      process.stderr.write(`shutdown took over ${graceMs / 1000}s: exiting now\n`);
      process.exit(1);
    }, graceMs);
    limit.unref();
    shutdown(signal).then(
      () => process.exit(0),
      (err) => {
        process.stderr.write(`shutdown: ${oneLine(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}

export function oneLine(err: unknown): string {
  const e = err as { message?: string; code?: string; errors?: Array<{ message?: string }> } | undefined;
  // AggregateError (e.g. ECONNREFUSED on both IPv4 and IPv6) has an empty message of its own.
  const msg = e?.message || e?.errors?.map((x) => x.message).join('; ') || e?.code || String(err);
  return msg.replace(/\s*\n\s*/g, ' ');
}

/** Prints `<command>: <message>` and exits 1 (the exit hooks release the services). */
export function failed(command: string, err: unknown): never {
  process.stderr.write(`${command}: ${oneLine(err)}\n`);
  process.exit(1);
}

/** Runs `step`, giving up after `ms` (a dead Redis or Postgres must not hold up the rest of a shutdown). */
export async function within(ms: number, what: string, step: () => Promise<unknown>, log: (m: string) => void = (m) => process.stderr.write(`${m}\n`)): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      step(),
      new Promise((_, rej) => {
        timer = setTimeout(() => rej(new Error(`timed out after ${ms / 1000}s`)), ms);
      }),
    ]);
  } catch (err) {
    log(`stopping ${what}: ${oneLine(err)}`);
  } finally {
    clearTimeout(timer);
  }
}
