/**
 * A saga is a list of steps, each a pair: what it does, and what undoes it (STYLE.md, after Medusa).
 *
 * `runSaga` runs the steps in order. When a step aborts with `SagaAbort` (a business outcome such as a
 * declined card), the steps already done are compensated in reverse order and the saga ends
 * `compensated`. Any other error is transient (network, Postgres down): it propagates so the job is
 * retried, and every step must therefore be safe to run again. Compensations must be idempotent too.
 */
export interface SagaStep<S> {
  name: string;
  run: (state: S) => Promise<void>;
  compensate?: (state: S, reason: SagaAbort) => Promise<void>;
}

export class SagaAbort extends Error {
  constructor(
    readonly reason: string,
    message = reason,
  ) {
    super(message);
  }
}

export interface SagaResult {
  outcome: 'completed' | 'compensated';
  /** The abort that triggered compensation, if any. */
  abort?: SagaAbort;
  /** The step that aborted. */
  failedStep?: string;
}

export async function runSaga<S>(steps: readonly SagaStep<S>[], state: S): Promise<SagaResult> {
  const done: SagaStep<S>[] = [];
  for (const step of steps) {
    try {
      await step.run(state);
      done.push(step);
    } catch (err) {
      if (!(err instanceof SagaAbort)) throw err;
      for (const prior of done.reverse()) await prior.compensate?.(state, err);
      return { outcome: 'compensated', abort: err, failedStep: step.name };
    }
  }
  return { outcome: 'completed' };
}
