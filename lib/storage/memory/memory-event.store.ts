import { LedgerClosedError } from '../../errors/ledger-closed.error';
import { RunEvent } from '../../events/run-event.interface';
import { serializeRunEvent } from '../../events/run-event.serializer';
import { restoreStoredEvent, sanitizeRunEvent } from '../../events/run-event.validator';
import { idOfStoredLine } from '../../events/stored-event-id';
import { planRetention, retentionFilter } from '../retention-plan';
import { LEDGER_DEFAULTS } from '../../options/ledger-defaults';
import { EventQuery, EventStore, FeedBatch, TailOptions } from '../event-store';
import { FeedHub } from '../feed-hub';
import { StorageStats } from '../storage-stats.interface';

/**
 * What a {@link MemoryEventStore} holds: the stored lines, in order. Give the
 * same object to a second store to open "the same storage" (as a path or a
 * schema would), e.g. to check what a restarted app would load.
 */
export class MemoryEventLog {
  /** Stored events as their JSON lines, in append order. */
  readonly lines: string[] = [];
  /** Counts rewrites (compaction, writeAll): a feed cursor of an older epoch starts over. */
  epoch = 0;
}

/** Options of a {@link MemoryEventStore}. */
export interface MemoryEventStoreOptions {
  /** The storage to use; a new, empty one by default. */
  log?: MemoryEventLog | undefined;
  /** Store queued events on the next turn of the event loop without waiting for `flush()`. @default true */
  autoFlush?: boolean | undefined;
  /** Largest serialised event accepted, in bytes. @default 4 MiB */
  maxEventBytes?: number | undefined;
}

/**
 * An {@link EventStore} in memory: nothing touches the disk and nothing is
 * durable beyond the process. For unit tests of applications
 * (`LedgerModule.forRoot({ store: new MemoryEventStore(), compaction: false })`)
 * and as the smallest complete implementation of the contract. Events are kept
 * as their JSON lines, so what is read back is a fresh, validated copy, as from
 * the other stores.
 */
export class MemoryEventStore extends EventStore {
  readonly sharedByReplicas = false;

  override describe(): { driver: string; location: string } {
    return { driver: 'memory', location: 'memory' };
  }
  private readonly log: MemoryEventLog;
  private readonly autoFlush: boolean;
  private readonly maxEventBytes: number;
  private pending: string[] = [];
  private readonly hub = new FeedHub();
  private scheduled = false;
  private closed = false;

  constructor(options: MemoryEventStoreOptions = {}) {
    super();
    this.log = options.log ?? new MemoryEventLog();
    this.autoFlush = options.autoFlush ?? LEDGER_DEFAULTS.autoFlush;
    this.maxEventBytes = options.maxEventBytes ?? LEDGER_DEFAULTS.maxEventBytes;
  }

  async open(): Promise<void> {}

  enqueue(events: RunEvent[]): void {
    if (this.closed) throw new LedgerClosedError('in memory');
    const lines = events.map((event) => serializeRunEvent(event, this.maxEventBytes));
    for (const line of lines) this.pending.push(line);
    if (this.autoFlush && !this.scheduled && lines.length > 0) {
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        this.storePending();
      });
    }
  }

  async flush(): Promise<void> {
    this.storePending();
  }

  async *readBatches(query: EventQuery = {}): AsyncIterable<RunEvent[]> {
    const from = query.from ?? -Infinity;
    const to = query.to ?? Infinity;
    const batch: RunEvent[] = [];
    for (const event of this.validEvents()) {
      if (event.timestamp < from || event.timestamp > to) continue;
      if (query.taskId !== undefined && event.taskId !== query.taskId) continue;
      batch.push(event);
    }
    if (batch.length > 0) yield batch;
  }

  async writeAll(events: readonly RunEvent[]): Promise<void> {
    const lines = events.map((input) => serializeRunEvent(sanitizeRunEvent(input, this.maxEventBytes), this.maxEventBytes));
    this.pending = [];
    this.replaceLines(lines);
  }

  async compact(maxEvents: number, onPaused?: () => void): Promise<number> {
    this.storePending();
    onPaused?.();
    const events = this.validEvents();
    const plan = planRetention(
      events.map((e) => e.timestamp),
      maxEvents,
    );
    if (!plan) return 0;
    const keep = retentionFilter(plan);
    const kept = events.filter((e) => keep(e.timestamp)).map((e) => serializeRunEvent(e, this.maxEventBytes));
    this.replaceLines(kept);
    return plan.evicted;
  }

  async getStats(): Promise<StorageStats> {
    const events = this.validEvents();
    let bytes = 0;
    for (const line of this.log.lines) bytes += Buffer.byteLength(line) + 1;
    return {
      eventCount: events.length,
      storageSizeBytes: bytes,
      oldestEvent: events.reduce<number | null>((min, e) => (min === null || e.timestamp < min ? e.timestamp : min), null),
      newestEvent: events.reduce<number | null>((max, e) => (max === null || e.timestamp > max ? e.timestamp : max), null),
      driver: 'memory',
      pendingEvents: this.pending.length,
      lastWriteOk: true,
      lastWriteError: null,
      corruptLines: this.log.lines.length - events.length,
      refusedEvents: 0,
      countsStale: false,
      lockLost: false,
    };
  }

  /** Cursors are `epoch:line index`. */
  async *tail(options: TailOptions = {}): AsyncIterable<FeedBatch> {
    const subscription = this.hub.subscribe();
    try {
      let index = this.log.lines.length;
      let reset = false;
      if (options.after === null) index = 0;
      else if (options.after !== undefined) {
        const [epoch, at] = options.after.split(':').map(Number);
        index = epoch === this.log.epoch ? Math.min(at, this.log.lines.length) : 0;
        reset = epoch !== this.log.epoch;
      }
      for (;;) {
        const events = this.validEvents(index);
        index = this.log.lines.length;
        yield { events, cursor: `${this.log.epoch}:${index}`, caughtUp: true, reset };
        reset = false;
        // Live: what the writer stores from here on; a rewrite starts over.
        for (;;) {
          const item = await subscription.next(options.signal);
          if (!item) return;
          if (item.reset) {
            index = 0;
            reset = true;
            break;
          }
          const end = Number(item.cursor.split(':')[1]);
          if (end <= index) continue;
          const fresh = item.events.slice(item.events.length - (end - index));
          index = end;
          yield { events: fresh, cursor: item.cursor, caughtUp: true, reset: false };
        }
      }
    } finally {
      subscription.close();
    }
  }

  async close(): Promise<void> {
    this.storePending();
    this.closed = true;
    this.hub.closeAll();
  }

  async deleteAll(): Promise<void> {
    this.closed = true;
    this.pending = [];
    this.replaceLines([]);
    this.hub.closeAll();
  }

  private storePending(): void {
    if (this.pending.length === 0) return;
    const events = this.pending.map((line) => this.parse(line)).filter((e): e is RunEvent => e !== null);
    for (const line of this.pending) this.log.lines.push(line);
    this.pending = [];
    this.hub.publish({ events, cursor: `${this.log.epoch}:${this.log.lines.length}`, reset: false });
  }

  private replaceLines(lines: string[]): void {
    this.log.lines.splice(0, this.log.lines.length, ...lines);
    this.log.epoch++;
    this.hub.publish({ events: [], cursor: `${this.log.epoch}:0`, reset: true });
  }

  private parse(line: string): RunEvent | null {
    return restoreStoredEvent(JSON.parse(line), this.maxEventBytes, () => idOfStoredLine(line));
  }

  private validEvents(from = 0): RunEvent[] {
    const events: RunEvent[] = [];
    for (let i = from; i < this.log.lines.length; i++) {
      const line = this.log.lines[i];
      const event = this.parse(line);
      if (event) events.push(event);
    }
    return events;
  }
}
