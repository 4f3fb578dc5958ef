import { AppError } from './errors.js';

/**
 * A status as an explicit transition table (as Vendure does for orders): the table says which status may
 * follow which, and every change of a status goes through it.
 * - `can(from, to)` and `assert(from, to)` for code that holds the current status.
 * - `from(to)`: the statuses that may move to `to`, for the guard of the write itself: SQL
 *   `UPDATE ... SET status = $to WHERE ... AND status = ANY($from)` (or `sqlIn`), Lua `ARGV` lists.
 * - `finals`, `live`: statuses with no way out, and the others.
 */
export class StateMachine<S extends string> {
  readonly states: readonly S[];
  readonly finals: readonly S[];
  readonly live: readonly S[];
  private readonly before = new Map<S, readonly S[]>();

  constructor(
    /** What the status belongs to, for error messages ("sale", "order"). */
    readonly name: string,
    readonly transitions: Readonly<Record<S, readonly S[]>>,
  ) {
    this.states = Object.keys(transitions) as S[];
    for (const [from, tos] of Object.entries(transitions) as Array<[S, readonly S[]]>) {
      for (const to of tos) if (!(to in transitions)) throw new Error(`${name}: ${from} -> ${to}: ${to} is not a state`);
    }
    this.finals = this.states.filter((s) => transitions[s].length === 0);
    this.live = this.states.filter((s) => transitions[s].length > 0);
    for (const to of this.states) this.before.set(to, this.states.filter((from) => transitions[from].includes(to)));
  }

  is(value: unknown): value is S {
    return typeof value === 'string' && Object.hasOwn(this.transitions, value);
  }

  can(from: S, to: S): boolean {
    return this.transitions[from]?.includes(to) ?? false;
  }

  /** Throws `invalid_state` (409) unless `from -> to` is in the table. */
  assert(from: S, to: S): void {
    if (!this.can(from, to)) throw new AppError('invalid_state', `a ${from} ${this.name} cannot become ${to}`);
  }

  /** The statuses that may move to `to`. */
  from(to: S): readonly S[] {
    return this.before.get(to) ?? [];
  }

  isFinal(s: S): boolean {
    return this.transitions[s]?.length === 0;
  }

  /** `s` and every status reachable from it (e.g. an order that was paid: paid or shipped). */
  andAfter(s: S): S[] {
    const seen = new Set<S>([s]);
    for (const x of seen) for (const next of this.transitions[x]) seen.add(next);
    return [...seen];
  }
}

/** `('a', 'b')` for SQL `status IN ...` from statuses of a table (they are identifiers from code, never input). */
export function sqlIn(statuses: readonly string[]): string {
  for (const s of statuses) if (!/^[a-z_]+$/.test(s)) throw new Error(`not a status: ${s}`);
  return `(${statuses.map((s) => `'${s}'`).join(', ')})`;
}
