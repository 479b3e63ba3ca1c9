import { mkdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { RunEvent } from '../../events/run-event.interface';
import { LEDGER_DEFAULTS } from '../../options/ledger-defaults';
import { EventQuery, FeedBatch, TailOptions } from '../event-store';
import { FeedHub } from '../feed-hub';
import { EventRow, QueuedEventStore, QueuedEventStoreOptions, StoredCounts } from '../queued-event-store';
import { EncodedLineQueue } from './encoded-line.queue';
import { LedgerLockedError } from '../../errors/ledger-locked.error';
import { LedgerLogReplacedError } from '../../errors/ledger-log-replaced.error';
import { FileLock } from './file-lock';
import { verifyLog } from './log-verification';
import { ProgressListener, StoreVerification } from '../store-verification.interface';
import { IndexFile } from './index-file';
import { compactLog } from './log-compaction';
import { readLogEvents } from './log-scan';
import { describeUnopenedLog, fileSizeOrZero, logExtentOnDisk, logSizeOnDisk, removeLeftoverTempFiles } from './log-on-disk';
import { tailLog } from './log-tail';
import { rewriteLog } from './log-rewrite';
import { NdjsonLog } from './ndjson-log';
import { StoreIndex } from './log-summary';

/** Options of a {@link FileEventStore}. */
export interface FileEventStoreOptions extends QueuedEventStoreOptions {
  /** Directory holding `events.ndjson`, `index.json` and `.lock`. */
  storagePath: string;
  /** A lock not refreshed for this long is taken over. @default 30000 */
  lockStaleMs?: number | undefined;
  /** Told the progress of each compaction, in bytes read over its two passes (the command-line tool draws it). */
  onCompactionProgress?: ProgressListener | undefined;
}

/** A queued event; its line waits, encoded, in the store's {@link EncodedLineQueue}. */
interface QueuedEvent {
  event: RunEvent;
  bytes: number;
}

/**
 * The NDJSON file store: `events.ndjson` (one event per line), `index.json`
 * (a summary verified against the log on open) and `.lock`, the layout the
 * original persistence layer wrote. One process writes it (the lock); any
 * process may read it.
 *
 * Besides the {@link EventStore} contract it keeps the original design's
 * methods with their original meaning: `acquireLock()`, `releaseLock()`, and
 * `destroy()` (deprecated), which deletes the store's files (the same as `deleteAll()`).
 */
export class FileEventStore extends QueuedEventStore<QueuedEvent> {
  readonly sharedByReplicas = false;
  protected readonly driver = 'ndjson';
  readonly eventsPath: string;
  readonly indexPath: string;
  readonly lockPath: string;
  private readonly onCompactionProgress: ProgressListener | undefined;
  private readonly storagePath: string;
  private readonly lock: FileLock;
  private readonly log: NdjsonLog;
  private readonly indexFile: IndexFile;
  /** The lines of the queued events, in queue order. */
  private readonly encodedLines = new EncodedLineQueue();
  private opening: Promise<void> | null = null;
  private retaking: Promise<void> | null = null;
  /** Set while this store lost its lock: the log as it had it, to tell on retaking whether someone changed it. */
  private lostHold: { inode: number; size: number } | null = null;
  /** Hands this writer's durable batches and rewrites to its tails. */
  private readonly hub = new FeedHub();

  constructor(options: FileEventStoreOptions) {
    super(options);
    this.storagePath = options.storagePath;
    this.eventsPath = join(options.storagePath, 'events.ndjson');
    this.indexPath = join(options.storagePath, 'index.json');
    this.lockPath = join(options.storagePath, '.lock');
    this.onCompactionProgress = options.onCompactionProgress;
    this.lock = new FileLock(this.lockPath, options.lockStaleMs ?? LEDGER_DEFAULTS.lockStaleMs, this.logger, () => this.retakeLockSoon());
    this.log = new NdjsonLog(this.eventsPath, this.storagePath, this.maxEventBytes, this.logger);
    this.indexFile = new IndexFile(this.indexPath, this.log, this.maxEventBytes, this.logger);
  }

  /** Takes the lock, repairs a torn tail, removes what interrupted rewrites left, and checks the index. Idempotent. */
  open(): Promise<void> {
    if (this.log.isOpen) return Promise.resolve();
    this.opening ??= this.openForWriting().finally(() => (this.opening = null));
    return this.opening;
  }

  /**
   * Streams events in append order. With `from`/`to` on an open store, only the
   * blocks of the log whose time span meets the range are read and parsed (see
   * the sparse time index in `index.json`); with `taskId`, lines that do not
   * contain the id as a JSON string are not parsed.
   */
  async *readBatches(query: EventQuery = {}): AsyncIterable<RunEvent[]> {
    const end = this.log.isOpen ? this.log.size : await logSizeOnDisk(this.eventsPath);
    const ranged = query.from !== undefined || query.to !== undefined;
    const ranges: [number, number][] =
      this.log.isOpen && ranged ? this.indexFile.index.rangesFor(query.from ?? -Infinity, query.to ?? Infinity, end) : [[0, end]];
    yield* readLogEvents(this.eventsPath, ranges, query, this.maxEventBytes);
  }

  /**
   * Cursors are `inode:byte offset` of `events.ndjson`. The writer's own tails
   * follow its batches as they are synced; a tail in another process polls the
   * file. A rewrite (compaction, `writeAll`) replaces the file: tails start over.
   */
  tail(options: TailOptions = {}): AsyncIterable<FeedBatch> {
    return tailLog(
      {
        eventsPath: this.eventsPath,
        maxEventBytes: this.maxEventBytes,
        subscribe: () => (this.log.isOpen ? this.hub.subscribe() : null),
        extent: () => this.logExtent(),
      },
      options,
    );
  }

  /**
   * Takes exclusive write access (the original design's name; `open()` takes it too).
   *
   * @throws LedgerLockedError when a live holder has it.
   */
  async acquireLock(): Promise<void> {
    await mkdir(this.storagePath, { recursive: true });
    await this.lock.acquire();
  }

  /** Gives up write access and closes the log; only the holder's release removes the lock. */
  async releaseLock(): Promise<void> {
    await this.closeLog();
    await this.lock.release();
  }

  /**
   * The original design's name for {@link deleteAll}: closes the store and deletes its files.
   *
   * @deprecated Use {@link deleteAll} (the same; `PersistentLedger.destroy()`, by contrast, keeps the data).
   */
  destroy(): Promise<void> {
    return this.deleteAll();
  }

  /** Whether `events.ndjson` exists (checked without creating anything). */
  async exists(): Promise<boolean> {
    return stat(this.eventsPath).then(
      (s) => s.isFile(),
      () => false,
    );
  }

  /**
   * Reads every line and checks `index.json` against the log (see {@link StoreVerification}).
   * Takes no lock and changes nothing, so it may run beside the app that writes the store.
   */
  verify(onProgress?: ProgressListener): Promise<StoreVerification> {
    return verifyLog(this.eventsPath, this.indexPath, this.maxEventBytes, onProgress);
  }

  protected override lockLost(): boolean {
    return this.lock.lost;
  }

  protected override writesRefused(): Error | null {
    // Every refused write asks for the lock again: the store comes back as soon as it is free.
    if (this.lock.takenBy) this.retakeLockSoon();
    return this.lock.takenBy;
  }

  protected describeLocation(): string {
    return this.storagePath;
  }

  protected toQueued(event: RunEvent, line: string): QueuedEvent {
    return { event, bytes: this.encodedLines.push(line) };
  }

  protected dropSuperseded(items: QueuedEvent[]): void {
    let bytes = 0;
    for (const item of items) bytes += item.bytes;
    this.encodedLines.shift(bytes);
  }

  /**
   * Group commit: the batch's encoded lines in one positioned write, then one
   * fdatasync. If `events.ndjson` was removed or replaced meanwhile, the batch
   * is taken back out of the old file and written at the path anew.
   */
  protected async writeBatch(batch: QueuedEvent[], reopened = false): Promise<void> {
    await this.open();
    // Never acknowledged into a store another process may be rewriting.
    await this.holdStore();
    let bytes = 0;
    for (const queued of batch) bytes += queued.bytes;
    const start = this.log.size;
    if (!(await this.log.append(this.encodedLines.peek(bytes)))) {
      await this.letGoOfMovedLog();
      if (reopened) throw new LedgerLogReplacedError(this.eventsPath);
      return this.writeBatch(batch, true);
    }
    this.encodedLines.shift(bytes);
    const index = this.indexFile.index;
    let min = Infinity;
    let max = -Infinity;
    for (const { event } of batch) {
      index.addEvent(event);
      if (event.timestamp < min) min = event.timestamp;
      if (event.timestamp > max) max = event.timestamp;
    }
    index.noteSpan(start, this.log.size, min, max);
    this.indexFile.scheduleWrite();
    if (reopened) this.hub.publish({ events: [], cursor: `${this.log.inode}:0`, reset: true });
    this.hub.publish({
      events: batch.map((queued) => queued.event),
      cursor: `${this.log.inode}:${this.log.size}`,
      reset: false,
    });
  }

  protected async replaceContent(rows: Iterable<EventRow>): Promise<void> {
    // A rewrite is a write: never into a store another process holds.
    await this.holdStore();
    const index = new StoreIndex();
    await rewriteLog(
      this.log,
      this.storagePath,
      async (write) => {
        for (const { event, line } of rows) {
          await write(line, event.timestamp);
          index.addEvent(event);
        }
      },
      index,
    );
    await this.useIndex(index);
  }

  protected async compactContent(maxEvents: number): Promise<number> {
    await this.holdStore();
    const current = this.indexFile.index;
    const result = await compactLog(
      this.log,
      this.storagePath,
      maxEvents,
      current.eventCount + current.corruptLines,
      this.maxEventBytes,
      this.logger,
      this.onCompactionProgress,
    );
    if (!result) return 0;
    await this.useIndex(result.index);
    return result.evicted;
  }

  /**
   * A read, like `stream()`: a store this instance has not opened is described
   * from `index.json` when it matches the log, or by scanning the log, without
   * taking the lock or creating anything (another process may be writing it).
   */
  protected async readCounts(): Promise<StoredCounts> {
    const { index, logSize } = this.log.isOpen
      ? { index: this.indexFile.index, logSize: this.log.size }
      : await describeUnopenedLog(this.eventsPath, this.indexPath, this.maxEventBytes);
    const indexBytes = await fileSizeOrZero(this.indexPath);
    return {
      eventCount: index.eventCount,
      storageSizeBytes: logSize + indexBytes,
      oldestEvent: index.oldestTimestamp,
      newestEvent: index.newestTimestamp,
      corruptLines: index.corruptLines,
      refusedEvents: 0,
      countsStale: false,
    };
  }

  protected async releaseResources(): Promise<void> {
    this.hub.closeAll();
    await this.retaking;
    await this.releaseLock();
  }

  protected async deleteContent(): Promise<void> {
    this.hub.closeAll();
    await this.retaking;
    await this.releaseLock();
    for (const path of [this.eventsPath, this.indexPath, this.lockPath]) await rm(path, { force: true });
  }

  /** A rewrite's new log comes with a new index, written at once; no line of it is corrupt. Tails start over. */
  private async useIndex(index: StoreIndex): Promise<void> {
    index.corruptLines = 0;
    this.indexFile.index = index;
    await this.indexFile.write();
    this.hub.publish({ events: [], cursor: `${this.log.inode}:0`, reset: true });
  }

  /** The log's inode and the size that holds complete lines (this writer's synced size, or the file's). */
  private async logExtent(): Promise<{ inode: number; size: number }> {
    return this.log.isOpen ? { inode: this.log.inode, size: this.log.size } : logExtentOnDisk(this.eventsPath);
  }

  private async openForWriting(): Promise<void> {
    const hadLock = this.lock.held;
    try {
      await this.acquireLock();
    } catch (err) {
      if (this.lostHold !== null && err instanceof LedgerLockedError) throw this.lock.takenByOther(err);
      throw err;
    }
    try {
      await this.log.open();
      await removeLeftoverTempFiles(this.storagePath, this.logger);
      await this.log.repairTornTail();
      await this.indexFile.load();
      this.noticeChangesWhileLost();
    } catch (err) {
      await this.log.close().catch(() => undefined);
      if (!hadLock) await this.lock.release().catch(() => undefined);
      throw err;
    }
  }

  /**
   * The lock file is still this store's; if not (removed or replaced), the store lets go of the log
   * and lock and takes the path anew as `open()` does, which fails with LedgerLockLostError while
   * another live process holds it (the write then waits in the queue).
   */
  private async holdStore(): Promise<void> {
    if (this.lostHold === null) {
      if (!this.log.isOpen || (await this.lock.isHeld())) return;
      this.lostHold = { inode: this.log.inode, size: this.log.size };
      this.indexFile.discardPending();
      await this.log.close();
      await this.lock.letGo();
    }
    await this.open();
  }

  /** After the store was held again: if another process changed the log meanwhile, tails start over and the ledger reloads. */
  private noticeChangesWhileLost(): void {
    const before = this.lostHold;
    if (before === null) return;
    this.lostHold = null;
    this.logger.warn(`Holds the ledger store ${this.storagePath} again after losing it`);
    if (before.inode === this.log.inode && before.size === this.log.size) return;
    this.logger.warn(`${this.eventsPath} changed while this process did not hold the store; the ledger reads it anew`);
    this.hub.publish({ events: [], cursor: `${this.log.inode}:0`, reset: true });
    this.queue.detached(() => this.notifyChangedElsewhere());
  }

  /** A lock refresh found the lock lost: take it again in step with the writer (a write in progress does the same). */
  private retakeLockSoon(): void {
    if (this.isClosed || (!this.log.isOpen && this.lostHold === null)) return;
    this.retaking ??= this.queue
      .exclusive(() => this.holdStore(), false)
      .catch(() => undefined)
      .finally(() => (this.retaking = null));
  }

  private async closeLog(): Promise<void> {
    await this.indexFile.writePending();
    await this.log.close();
  }

  /**
   * Writing on through the handle of a removed or replaced log would put
   * acknowledged events where nobody reads them. Let go of the old file and
   * lock so that `open()` takes the path anew (and fails loudly if that is impossible).
   */
  private async letGoOfMovedLog(): Promise<void> {
    this.logger.warn(`${this.eventsPath} was removed or replaced while the store had it open; reopening the path`);
    // Once the path is held again, memory follows what is there (as after a lost lock).
    this.lostHold ??= { inode: this.log.inode, size: this.log.size };
    await this.log.close().catch(() => undefined);
    if (await this.lock.isHeld()) await this.lock.release();
    else await this.lock.letGo();
  }
}

/** Creates an NDJSON file store in the directory `path` (the same as `new FileEventStore({ ...options, storagePath: path })`). */
export function createFileEventStore(path: string, options: Omit<FileEventStoreOptions, 'storagePath'> = {}): FileEventStore {
  return new FileEventStore({ ...options, storagePath: path });
}

/**
 * The original design's factory, kept: it makes a file store only, whatever the options elsewhere say.
 *
 * @deprecated Use {@link createFileEventStore} (same signature); for the store the ledger's options
 * describe, let `LedgerModule` or `createPersistentLedger` make it.
 */
export function createEventStore(path: string, options: Omit<FileEventStoreOptions, 'storagePath'> = {}): FileEventStore {
  return createFileEventStore(path, options);
}
