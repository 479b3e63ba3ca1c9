import { LedgerClosedError } from '../../errors/ledger-closed.error';
import { RunEvent } from '../../events/run-event.interface';
import { serializeRunEvent } from '../../events/run-event.serializer';
import { restoreStoredEvent, sanitizeRunEvent } from '../../events/run-event.validator';
import { idOfStoredLine } from '../../events/stored-event-id';
import { planRetention, retentionFilter } from '../../ledger/retention-plan';
import { LEDGER_DEFAULTS } from '../../options/ledger-defaults';
import { EventQuery, EventStore } from '../event-store';
import { StorageStats } from '../storage-stats.interface';

/**
 * What a {@link MemoryEventStore} holds: the stored lines, in order. Give the
 * same object to a second store to open "the same storage" (as a path or a
 * schema would), e.g. to check what a restarted app would load.
 */
export class MemoryEventLog {
  /** Stored events as their JSON lines, in append order. */
  readonly lines: string[] = [];
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
  private readonly log: MemoryEventLog;
  private readonly autoFlush: boolean;
  private readonly maxEventBytes: number;
  private pending: string[] = [];
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
    this.log.lines.splice(0, this.log.lines.length, ...lines);
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
    this.log.lines.splice(0, this.log.lines.length, ...kept);
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
    };
  }

  async close(): Promise<void> {
    this.storePending();
    this.closed = true;
  }

  async deleteAll(): Promise<void> {
    this.closed = true;
    this.pending = [];
    this.log.lines.length = 0;
  }

  private storePending(): void {
    for (const line of this.pending) this.log.lines.push(line);
    this.pending = [];
  }

  private validEvents(): RunEvent[] {
    const events: RunEvent[] = [];
    for (const line of this.log.lines) {
      const event = restoreStoredEvent(JSON.parse(line), this.maxEventBytes, () => idOfStoredLine(line));
      if (event) events.push(event);
    }
    return events;
  }
}
