/**
 * Micro-batching (group commit) for calls whose fixed cost is well above the work of one item: a Redis
 * script call, a Postgres round trip, a BullMQ job. Items handed to `add` wait for the schedule, then go
 * to `send` together; each caller gets its own item's result.
 *
 * - `schedule` says how long the first item of a batch waits for company: `'turn'` until the I/O of this
 *   event-loop turn has been read (setImmediate), `'tick'` until the code running now is done
 *   (process.nextTick), or a number of milliseconds (setTimeout). Without load a lone item waits no longer
 *   than that; a batch that reaches `maxSize` goes at once.
 * - `maxInFlight` batches are sent at once. Items arriving meanwhile wait and form the next batch the
 *   moment one returns, so batches grow with load instead of calls queueing up.
 * - `send` answers one result per item, in order. An `Error` in place of a result rejects that item only;
 *   a `send` that throws rejects every item of its batch.
 */
export type BatchSchedule = 'turn' | 'tick' | number;

export interface BatchOptions {
  /** Most items per batch. */
  maxSize: number;
  /** Batches sent and not yet answered, at most (Infinity: no limit). */
  maxInFlight: number;
  schedule: BatchSchedule;
}

/** Sends one batch; `label` is what `open` made for it (see Batcher.join). */
export type SendBatch<T, R, L> = (items: T[], label: L) => Promise<Array<R | Error>>;

interface Waiting<T, R> {
  item: T;
  resolve: (r: R) => void;
  reject: (err: unknown) => void;
}

export class Batcher<T, R, L = undefined> {
  private waiting: Array<Waiting<T, R>> = [];
  /** The labels of the batches `waiting` will form, one per `maxSize` items (only with `open`). */
  private labels: L[] = [];
  private inFlight = 0;
  private timer: NodeJS.Immediate | NodeJS.Timeout | undefined;
  private scheduled = false;
  private idle: Array<() => void> = [];

  constructor(
    private readonly opts: BatchOptions,
    private readonly send: SendBatch<T, R, L>,
    /** Makes the label of a batch when its first item arrives (e.g. an id the items must know in advance). */
    private readonly open?: () => L,
    /** Called whenever nothing is waiting or in flight any more. */
    private readonly onIdle?: () => void,
  ) {
    if (!(opts.maxSize >= 1) || !(opts.maxInFlight >= 1)) throw new Error('batch: maxSize and maxInFlight must be at least 1');
  }

  /** Hands in one item; resolves to its result once its batch is answered. */
  add(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => this.push({ item, resolve, reject }));
  }

  /** As `add`, also telling the caller the label of the batch its item will go in. */
  join(item: T): { label: L; result: Promise<R> } {
    let label!: L;
    const result = new Promise<R>((resolve, reject) => {
      label = this.push({ item, resolve, reject });
    });
    return { label, result };
  }

  /** Items waiting or in flight. */
  get pending(): number {
    return this.waiting.length + this.inFlight;
  }

  /** Sends what is waiting now (as far as maxInFlight allows); resolves once nothing is waiting or in flight. */
  async drain(): Promise<void> {
    this.flush();
    if (this.waiting.length === 0 && this.inFlight === 0) return;
    await new Promise<void>((resolve) => this.idle.push(resolve));
  }

  private push(w: Waiting<T, R>): L {
    const index = this.waiting.length;
    this.waiting.push(w);
    if (this.open && index % this.opts.maxSize === 0) this.labels.push(this.open());
    const label = this.open ? this.labels[Math.floor(index / this.opts.maxSize)] : (undefined as L);
    if (this.inFlight < this.opts.maxInFlight) {
      if (this.waiting.length >= this.opts.maxSize) this.flush();
      else if (!this.scheduled) this.schedule();
    }
    return label;
  }

  private schedule(): void {
    this.scheduled = true;
    const s = this.opts.schedule;
    if (s === 'turn') this.timer = setImmediate(this.flush);
    else if (s === 'tick') process.nextTick(this.flush);
    else this.timer = setTimeout(this.flush, s);
  }

  private readonly flush = (): void => {
    if (this.scheduled) {
      this.scheduled = false;
      if (this.timer !== undefined) {
        if (this.opts.schedule === 'turn') clearImmediate(this.timer as NodeJS.Immediate);
        else clearTimeout(this.timer as NodeJS.Timeout);
        this.timer = undefined;
      }
    }
    while (this.waiting.length > 0 && this.inFlight < this.opts.maxInFlight) {
      const all = this.waiting.length <= this.opts.maxSize;
      const batch = all ? this.waiting : this.waiting.slice(0, this.opts.maxSize);
      this.waiting = all ? [] : this.waiting.slice(this.opts.maxSize);
      const label = this.open ? (this.labels.shift() as L) : (undefined as L);
      this.inFlight++;
      void this.run(batch, label);
    }
  };

  private async run(batch: Array<Waiting<T, R>>, label: L): Promise<void> {
    try {
      const results = await this.send(
        batch.map((w) => w.item),
        label,
      );
      for (let i = 0; i < batch.length; i++) {
        const r = results[i];
        if (r instanceof Error) batch[i].reject(r);
        else if (i >= results.length) batch[i].reject(new Error(`batch: ${results.length} results for ${batch.length} items`));
        else batch[i].resolve(r);
      }
    } catch (err) {
      for (const w of batch) w.reject(err);
    } finally {
      this.inFlight--;
      if (this.waiting.length > 0) this.flush();
      else if (this.inFlight === 0) {
        for (const done of this.idle.splice(0)) done();
        this.onIdle?.();
      }
    }
  }
}

/**
 * One Batcher per key (a sale, say), made when the key's first item arrives and dropped when it has nothing
 * waiting or in flight. Keys never share a batch, and `maxInFlight` applies to each key on its own.
 */
export class KeyedBatcher<K, T, R> {
  private readonly byKey = new Map<K, Batcher<T, R>>();

  constructor(
    private readonly opts: BatchOptions,
    private readonly send: (key: K, items: T[]) => Promise<Array<R | Error>>,
  ) {}

  add(key: K, item: T): Promise<R> {
    let b = this.byKey.get(key);
    if (!b) {
      const created = new Batcher<T, R>(this.opts, (items) => this.send(key, items), undefined, () => {
        if (this.byKey.get(key) === created) this.byKey.delete(key);
      });
      this.byKey.set(key, (b = created));
    }
    return b.add(item);
  }

  /** Keys with items waiting or in flight. */
  get keys(): number {
    return this.byKey.size;
  }

  async drain(): Promise<void> {
    await Promise.all([...this.byKey.values()].map((b) => b.drain()));
  }
}
