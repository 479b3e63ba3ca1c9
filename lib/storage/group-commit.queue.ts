import { LedgerWriteError } from '../errors/ledger-write.error';
import { AsyncLocalStorage } from 'node:async_hooks';
import { LoggerService } from '@nestjs/common';

interface FlushWaiter {
  target: number;
  resolve: () => void;
  reject: (err: Error) => void;
  /** Set when an item this flush covers was refused: the flush rejects with it once its target is reached. */
  failure?: Error;
}

/** An item the store refused for good, and why. */
export interface RefusedItem<T> {
  item: T;
  error: Error;
}

/**
 * How a store isolates items its backend refuses for good (the data itself is
 * rejected, so no retry can cure it), instead of retrying them forever and
 * blocking every later item.
 */
export interface RefusalPolicy<T> {
  /** Whether a write failure says the data was refused (permanent), as opposed to a transient failure. */
  isPermanent(err: Error): boolean;
  /**
   * Keeps refused items where nothing is lost (a dead-letter table) and logs
   * them. Throws when it cannot: the whole batch then stays queued for retry.
   */
  setAside(refused: RefusedItem<T>[]): Promise<void>;
  /** The error the `flush()` calls covering refused items reject with. */
  errorFor(refused: RefusedItem<T>[]): Error;
}

/** Keeps the original error object (its code and stack), whatever realm it comes from. */
function asError(err: unknown): Error {
  return typeof err === 'object' && err !== null && 'message' in err ? (err as Error) : new Error(String(err));
}

/** Retry delays after a failed write, while events wait in memory. */
const RETRY_MIN_MS = 100;
const RETRY_MAX_MS = 5_000;

/**
 * One serialised writer per store. Items are queued synchronously; whatever is
 * queued when the writer is free is written as one batch (group commit).
 *
 * A failed batch stays queued at the front, every pending `flush()` rejects
 * with the cause, the error is logged, and the batch is retried (by the next
 * `flush()`, or by a backoff timer when `autoFlush` is on) until it succeeds.
 * A batch is written exactly once provided `writeBatch` leaves no trace of a
 * failed attempt (both stores roll a failed batch back).
 *
 * With a {@link RefusalPolicy}, a batch that fails permanently is split in
 * halves until the refused items are isolated; those are set aside and the
 * flushes covering them reject, and every other item is written. A transient
 * failure met while splitting leaves the whole batch queued (the store's writes
 * must then be idempotent, as the PostgreSQL store's are).
 */
export class GroupCommitQueue<T> {
  private pending: T[] = [];
  /**
   * Marks (enqueue counts at the call) of exclusive sections not yet finished:
   * background writes stop at the lowest, so that nothing queued after a
   * rewrite was asked for lands in the content it is about to replace.
   */
  private readonly barriers: number[] = [];
  /** Items of the batch being written now. */
  private inFlight = 0;
  private enqueued = 0;
  private settled = 0;
  private waiters: FlushWaiter[] = [];
  private chain: Promise<unknown> = Promise.resolve();
  private draining = false;
  private scheduled = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private retryDelayMs = RETRY_MIN_MS;
  private closed = false;
  /**
   * The exclusive section a call runs in: a token per section, valid only while that section runs
   * (timers and promise callbacks created inside it keep the token, but not the section's rights).
   */
  private readonly insideExclusive = new AsyncLocalStorage<object>();
  private readonly runningSections = new Set<object>();
  /** The most recent write failure, cleared by the next successful write. */
  lastError: Error | null = null;

  constructor(
    private readonly writeBatch: (batch: T[]) => Promise<void>,
    private readonly logger: LoggerService,
    private readonly autoFlush: boolean,
    private readonly refusals: RefusalPolicy<T> | null = null,
  ) {}

  /** Items not yet durable: queued, or in the batch being written. */
  get size(): number {
    return this.pending.length + this.inFlight;
  }

  /** Items queued and not being written. */
  get queuedCount(): number {
    return this.pending.length;
  }

  /** Queues items in order; with `autoFlush` a write is scheduled. */
  push(items: T[]): void {
    if (items.length === 0) return;
    for (const item of items) this.pending.push(item);
    this.enqueued += items.length;
    if (this.autoFlush && !this.scheduled && !this.draining && !this.retryTimer && !this.closed) {
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        this.startDrain();
      });
    }
  }

  /** Resolves once every item queued before the call is durable; rejects with the write error otherwise. */
  flush(): Promise<void> {
    const target = this.enqueued;
    if (this.settled >= target) return Promise.resolve();
    const done = new Promise<void>((resolve, reject) => this.waiters.push({ target, resolve, reject }));
    if (this.inRunningSection()) {
      // Inside an exclusive section, a flush writes directly (the section's own mark does not hold it back).
      return this.drain(Infinity, false).then(() => done);
    }
    this.startDrain();
    return done;
  }

  /**
   * Runs `fn` while no batch is being written. Items queued before the call
   * are handled by the section: with `flushFirst` they are written before `fn`
   * runs (a write failure rejects without running it), without it `fn` may
   * {@link supersedeUpTo} them. Items queued after the call wait until `fn`
   * returns, even those a write already under way would have taken.
   * Re-entrant: `fn` may call it again.
   */
  exclusive<R>(fn: () => Promise<R>, flushFirst = true): Promise<R> {
    if (this.inRunningSection()) {
      return (async () => {
        if (flushFirst) {
          const error = await this.drain(Infinity, false);
          if (error) throw error;
        }
        return fn();
      })();
    }
    const mark = this.enqueued;
    this.barriers.push(mark);
    const run = async (): Promise<R> => {
      try {
        if (flushFirst) {
          const error = await this.drain(mark, false);
          if (error) throw error;
        }
        return await fn();
      } finally {
        this.barriers.splice(this.barriers.indexOf(mark), 1);
        // A background write stopped at this section's mark: resume it after the section (not as part of it).
        if (this.autoFlush && !this.closed && this.pending.length > 0) this.insideExclusive.exit(() => this.startDrain());
      }
    };
    const section = {};
    const result = this.chain.then(() => {
      this.runningSections.add(section);
      return this.insideExclusive.run(section, run).finally(() => this.runningSections.delete(section));
    });
    this.chain = result.catch(() => undefined);
    return result;
  }

  private inRunningSection(): boolean {
    const section = this.insideExclusive.getStore();
    return section !== undefined && this.runningSections.has(section);
  }

  /**
   * Runs `fn` outside any exclusive section (what it starts, e.g. a reload that flushes, is not part
   * of the section that called it and waits for it like any other caller).
   */
  detached(fn: () => void): void {
    this.insideExclusive.exit(fn);
  }

  /** How many items were ever queued: a mark for {@link supersedeUpTo}. */
  get enqueuedCount(): number {
    return this.enqueued;
  }

  /**
   * Drops the queued items that came before `mark` (an {@link enqueuedCount}
   * read earlier) because an exclusive section stored them by other means (a
   * full rewrite); their waiters resolve. Items queued after the mark stay.
   * Returns the dropped items.
   */
  supersedeUpTo(mark: number): T[] {
    const count = Math.max(0, Math.min(mark - this.settled, this.pending.length));
    const dropped = this.pending.splice(0, count);
    this.markSettled(count);
    return dropped;
  }

  /**
   * Writes what is queued, then stops for good (no more retries). A final write
   * failure is logged with the number of items it leaves unwritten and rethrown.
   */
  async flushAndClose(): Promise<void> {
    try {
      await this.flush();
    } catch (err) {
      this.logger.error(`Closing the ledger store with ${this.pending.length} event(s) that could not be written: ${(err as Error).message}`);
      throw err;
    } finally {
      this.close();
    }
  }

  /** Stops retry timers; queued items stay queued. */
  close(): void {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }

  private startDrain(): void {
    if (this.draining) return;
    this.draining = true;
    if (this.retryTimer) {
      clearTimeout(this.retryTimer);
      this.retryTimer = null;
    }
    this.chain = this.chain.then(() => this.drain());
  }

  /**
   * Writes batches until nothing is queued, or up to item `upTo` (an enqueue
   * count), and, with `respectBarriers`, not past the mark of a pending
   * exclusive section. Returns the failure, if any, instead of throwing.
   */
  private async drain(upTo = Infinity, respectBarriers = true): Promise<Error | null> {
    while (this.pending.length > 0) {
      const limit = respectBarriers && this.barriers.length > 0 ? Math.min(upTo, ...this.barriers) : upTo;
      const room = limit - this.settled;
      if (room <= 0) break;
      const batch = room >= this.pending.length ? this.pending : this.pending.slice(0, room);
      this.pending = room >= this.pending.length ? [] : this.pending.slice(room);
      this.inFlight = batch.length;
      let refused: RefusedItem<T>[];
      try {
        const refusedAt = await this.writeIsolatingRefusals(batch, 0);
        refused = refusedAt.map(({ index, error }) => ({ item: batch[index], error }));
        if (refused.length > 0) await this.refusals!.setAside(refused);
        if (refused.length > 0) this.taintWaiters(this.settled + refusedAt[0].index, this.refusals!.errorFor(refused));
      } catch (err) {
        this.pending = batch.concat(this.pending);
        this.inFlight = 0;
        this.fail(asError(err));
        this.draining = false;
        return this.lastError;
      }
      this.inFlight = 0;
      if (this.lastError) {
        this.logger.log(`Ledger writes recovered after "${this.lastError.message}"; ${batch.length - refused.length} queued event(s) written`);
        this.lastError = null;
        this.retryDelayMs = RETRY_MIN_MS;
      }
      this.markSettled(batch.length);
    }
    this.draining = false;
    return null;
  }

  /**
   * Writes a batch; when it fails permanently, writes each half on its own
   * until the refused items are isolated. Returns their indices in `batch`
   * (offset by `offset`), in order. Throws on a transient failure.
   */
  private async writeIsolatingRefusals(batch: T[], offset: number): Promise<{ index: number; error: Error }[]> {
    try {
      await this.writeBatch(batch);
      return [];
    } catch (err) {
      const error = asError(err);
      if (!this.refusals?.isPermanent(error)) throw error;
      if (batch.length === 1) return [{ index: offset, error }];
      const half = batch.length >> 1;
      const first = await this.writeIsolatingRefusals(batch.slice(0, half), offset);
      const second = await this.writeIsolatingRefusals(batch.slice(half), offset + half);
      return first.concat(second);
    }
  }

  /** Flushes waiting for item `sequence` (or later ones) will reject with `error`. */
  private taintWaiters(sequence: number, error: Error): void {
    for (const waiter of this.waiters) if (waiter.target > sequence) waiter.failure ??= error;
  }

  private markSettled(count: number): void {
    this.settled += count;
    while (this.waiters.length > 0 && this.waiters[0].target <= this.settled) {
      const waiter = this.waiters.shift()!;
      if (waiter.failure) waiter.reject(waiter.failure);
      else waiter.resolve();
    }
  }

  private fail(error: Error): void {
    const firstOfKind = this.lastError?.message !== error.message;
    this.lastError = error;
    if (firstOfKind) {
      this.logger.error(`Ledger write failed, ${this.pending.length} event(s) kept in memory for retry: ${error.message}`, error.stack);
    }
    const waiters = this.waiters;
    this.waiters = [];
    const rejection = new LedgerWriteError(error, this.pending.length);
    for (const waiter of waiters) waiter.reject(rejection);
    if (this.autoFlush && !this.closed && !this.retryTimer) {
      this.retryTimer = setTimeout(() => {
        this.retryTimer = null;
        this.startDrain();
      }, this.retryDelayMs);
      this.retryTimer.unref();
      this.retryDelayMs = Math.min(this.retryDelayMs * 2, RETRY_MAX_MS);
    }
  }
}
