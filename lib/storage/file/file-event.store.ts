import { constants as fsConstants } from 'node:fs';
import { FileHandle, mkdir, open, readFile, readdir, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Logger, LoggerService } from '@nestjs/common';
import { EventQuery, EventStore } from '../event-store';
import { LedgerClosedError } from '../../errors/ledger-closed.error';
import { GroupCommitQueue } from '../group-commit.queue';
import { RunEvent } from '../../events/run-event.interface';
import { StorageStats } from '../storage-stats.interface';
import { planRetention, retentionFilter } from '../../ledger/retention-plan';
import { serializeRunEvent } from '../../events/run-event.serializer';
import { DEFAULT_MAX_EVENT_BYTES, sanitizeRunEvent } from '../../events/run-event.validator';
import { DEFAULT_LOCK_STALE_MS, FileLock } from './file-lock';
import { EncodedLineQueue } from './encoded-line.queue';
import { readNdjsonLines } from './ndjson-line.reader';
import { INDEX_VERSION, StoreIndex, StoreIndexFile, isBlankLine, parseStoredLine } from './store-index';

/** Options of a {@link FileEventStore}. */
export interface FileEventStoreOptions {
  /** Directory holding `events.ndjson`, `index.json` and `.lock`. */
  storagePath: string;
  /** Write queued events in the background as soon as they are logged; when false only `flush()` writes. @default true */
  autoFlush?: boolean | undefined;
  /** Largest serialised event accepted, in bytes. @default 4 MiB */
  maxEventBytes?: number | undefined;
  /** A lock not refreshed for this long is taken over. @default 30000 */
  lockStaleMs?: number | undefined;
  /** Where warnings and write errors go. @default new Logger('LedgerStore') */
  logger?: LoggerService | undefined;
}

/** A queued event; its line waits, encoded, in the store's {@link EncodedLineQueue}. */
interface QueuedEvent {
  event: RunEvent;
  bytes: number;
}

/** A rewrite (compaction, save) writes its new log in pieces of about this size. */
const REWRITE_CHUNK_BYTES = 1024 * 1024;
/** How long appends may leave `index.json` behind the log (it is verified on open anyway). */
const INDEX_WRITE_DELAY_MS = 1_000;

/** Writes all of `bytes` at `position` (a write may take fewer bytes than asked). */
async function writeFully(file: FileHandle, bytes: Buffer, position: number): Promise<void> {
  for (let written = 0; written < bytes.length;) {
    const { bytesWritten } = await file.write(bytes, written, bytes.length - written, position + written);
    written += bytesWritten;
  }
}

function isErrno(err: unknown, code: string): boolean {
  return (err as NodeJS.ErrnoException)?.code === code;
}

/**
 * The NDJSON file store: `events.ndjson` (one event per line), `index.json`
 * (a summary verified against the log on open) and `.lock`, the layout the
 * original persistence layer wrote.
 */
export class FileEventStore extends EventStore {
  readonly sharedByReplicas = false;
  readonly eventsPath: string;
  readonly indexPath: string;
  readonly lockPath: string;
  private readonly maxEventBytes: number;
  private readonly logger: LoggerService;
  private readonly lock: FileLock;
  private readonly queue: GroupCommitQueue<QueuedEvent>;
  private log: FileHandle | null = null;
  private logInode = 0;
  /** Bytes of `events.ndjson` that hold complete, synced lines. */
  private logSize = 0;
  private index = new StoreIndex();
  private indexTimer: NodeJS.Timeout | null = null;
  private opening: Promise<void> | null = null;
  private closed = false;
  private indexWrites: Promise<void> = Promise.resolve();
  /** The lines of the queued events, in queue order. */
  private readonly encodedLines = new EncodedLineQueue();

  constructor(private readonly options: FileEventStoreOptions) {
    super();
    this.eventsPath = join(options.storagePath, 'events.ndjson');
    this.indexPath = join(options.storagePath, 'index.json');
    this.lockPath = join(options.storagePath, '.lock');
    this.maxEventBytes = options.maxEventBytes ?? DEFAULT_MAX_EVENT_BYTES;
    this.logger = options.logger ?? new Logger('LedgerStore');
    this.lock = new FileLock(this.lockPath, options.lockStaleMs ?? DEFAULT_LOCK_STALE_MS, this.logger);
    this.queue = new GroupCommitQueue((batch) => this.writeBatch(batch), this.logger, options.autoFlush ?? true);
  }

  open(): Promise<void> {
    if (this.log) return Promise.resolve();
    this.opening ??= this.openForWriting().finally(() => (this.opening = null));
    return this.opening;
  }

  enqueue(events: RunEvent[]): void {
    if (this.closed) throw new LedgerClosedError(this.options.storagePath);
    const lines = events.map((event) => serializeRunEvent(event, this.maxEventBytes));
    this.queue.push(events.map((event, i) => ({ event, bytes: this.encodedLines.push(lines[i]) })));
  }

  flush(): Promise<void> {
    return this.queue.flush();
  }

  /**
   * Streams events in append order. With `from`/`to` on an open store, only the
   * blocks of the log whose time span meets the range are read and parsed (see
   * the sparse time index in `index.json`); with `taskId`, lines that do not
   * contain the id as a JSON string are not parsed.
   */
  async *readBatches(query: EventQuery = {}): AsyncIterable<RunEvent[]> {
    const end = this.log ? this.logSize : await this.sizeOnDisk();
    const from = query.from ?? -Infinity;
    const to = query.to ?? Infinity;
    const ranges: [number, number][] =
      this.log && (query.from !== undefined || query.to !== undefined) ? this.index.rangesFor(from, to, end) : [[0, end]];
    const taskNeedle = query.taskId === undefined ? null : JSON.stringify(query.taskId);
    for (const [rangeStart, rangeEnd] of ranges) {
      for await (const { lines } of readNdjsonLines(this.eventsPath, rangeStart, rangeEnd, this.maxEventBytes * 2)) {
        const batch: RunEvent[] = [];
        for (const line of lines) {
          if (isBlankLine(line)) continue;
          // A line without the task id as a JSON string cannot belong to the task: skip the parse.
          if (taskNeedle !== null && !line.includes(taskNeedle)) continue;
          const event = parseStoredLine(line, this.maxEventBytes);
          if (!event || event.timestamp < from || event.timestamp > to) continue;
          if (query.taskId !== undefined && event.taskId !== query.taskId) continue;
          batch.push(event);
        }
        if (batch.length > 0) yield batch;
      }
    }
  }

  writeAll(events: readonly RunEvent[]): Promise<void> {
    return this.queue.exclusive(async () => {
      await this.open();
      const replacedQueued = this.queue.queuedCount;
      const index = new StoreIndex();
      await this.replaceLog(async (write) => {
        for (let i = 0; i < events.length; i++) {
          const event = sanitizeRunEvent(events[i], this.maxEventBytes);
          await write(serializeRunEvent(event, this.maxEventBytes), event.timestamp);
          index.addEvent(event);
        }
      }, index);
      let replacedBytes = 0;
      for (const queued of this.queue.supersede(replacedQueued)) replacedBytes += queued.bytes;
      this.encodedLines.shift(replacedBytes);
    }, false);
  }

  compact(maxEvents: number): Promise<number> {
    return this.queue.exclusive(async () => {
      await this.open();
      const { timestamps, taskCodes, taskNames } = await this.scanTimestamps();
      const plan = planRetention(timestamps, maxEvents);
      if (!plan) return 0;
      const keep = retentionFilter(plan);
      const index = new StoreIndex();
      const quarantinePath = `${this.eventsPath}.corrupt`;
      let quarantine: FileHandle | null = null;
      let corrupt = 0;
      let lineNo = 0;
      await this.replaceLog(async (write) => {
        try {
          for await (const { lines } of readNdjsonLines(this.eventsPath, 0, this.logSize, this.maxEventBytes * 2)) {
            for (const line of lines) {
              if (isBlankLine(line)) continue;
              const ts = timestamps[lineNo];
              const task = taskNames[taskCodes[lineNo]];
              lineNo++;
              if (Number.isNaN(ts)) {
                // Unreadable lines go to a side file, synced before the new log replaces the old one.
                quarantine ??= await open(quarantinePath, 'a');
                await quarantine.write(line + '\n');
                corrupt++;
              } else if (keep(ts)) {
                await write(line, ts);
                index.add(ts, task);
              }
            }
          }
          await quarantine?.sync();
        } finally {
          await quarantine?.close();
        }
      }, index);
      if (corrupt > 0) this.logger.warn(`Compaction moved ${corrupt} unreadable line(s) of ${this.eventsPath} to ${quarantinePath}`);
      return plan.evicted;
    });
  }

  withWriterPaused<R>(fn: () => Promise<R>): Promise<R> {
    return this.queue.exclusive(fn);
  }

  /**
   * A read, like `stream()`: a store this instance has not opened is described
   * from `index.json` when it matches the log, or by scanning the log, without
   * taking the lock or creating anything (another process may be writing it).
   */
  async getStats(): Promise<StorageStats> {
    const { index, logSize } = this.log ? { index: this.index, logSize: this.logSize } : await this.describeUnopened();
    const indexBytes = await stat(this.indexPath).then(
      (s) => s.size,
      () => 0,
    );
    return {
      eventCount: index.eventCount,
      storageSizeBytes: logSize + indexBytes,
      oldestEvent: index.oldestTimestamp,
      newestEvent: index.newestTimestamp,
      driver: 'ndjson',
      pendingEvents: this.queue.size,
      lastWriteOk: this.queue.lastError === null,
      lastWriteError: this.queue.lastError?.message ?? null,
      corruptLines: index.corruptLines,
      refusedEvents: 0,
      countsStale: false,
    };
  }

  async acquireLock(): Promise<void> {
    await mkdir(this.options.storagePath, { recursive: true });
    await this.lock.acquire();
  }

  async releaseLock(): Promise<void> {
    await this.closeLog();
    await this.lock.release();
  }

  async close(): Promise<void> {
    this.closed = true;
    try {
      await this.queue.flushAndClose();
    } finally {
      await this.releaseLock();
    }
  }

  async destroy(): Promise<void> {
    this.closed = true;
    this.queue.close();
    await this.releaseLock();
    for (const path of [this.eventsPath, this.indexPath, this.lockPath]) await rm(path, { force: true });
  }

  private async describeUnopened(): Promise<{ index: StoreIndex; logSize: number }> {
    let info;
    try {
      info = await stat(this.eventsPath);
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return { index: new StoreIndex(), logSize: 0 };
      throw err;
    }
    const saved = await this.readSavedIndex();
    if (saved && saved.file.version === INDEX_VERSION && saved.file.logInode === info.ino && saved.file.logSizeBytes === info.size) {
      return { index: saved.index, logSize: info.size };
    }
    const index = new StoreIndex();
    await this.indexLines(index, 0, info.size);
    return { index, logSize: info.size };
  }

  /** `index.json` as saved, or null when it is missing, unparseable or wrongly shaped. */
  private async readSavedIndex(): Promise<{ file: StoreIndexFile; index: StoreIndex } | null> {
    let file: StoreIndexFile;
    try {
      file = JSON.parse(await readFile(this.indexPath, 'utf8')) as StoreIndexFile;
    } catch {
      return null;
    }
    const index = StoreIndex.fromFile(file);
    return index ? { file, index } : null;
  }

  private async sizeOnDisk(): Promise<number> {
    try {
      return (await stat(this.eventsPath)).size;
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return 0;
      throw err;
    }
  }

  private async openForWriting(): Promise<void> {
    const hadLock = this.lock.held;
    await this.acquireLock();
    try {
      await this.openLog();
      await this.removeLeftoverTempFiles();
      await this.repairTornTail();
      await this.loadIndex();
    } catch (err) {
      await this.log?.close().catch(() => undefined);
      this.log = null;
      if (!hadLock) await this.lock.release().catch(() => undefined);
      throw err;
    }
  }

  private async openLog(): Promise<void> {
    await mkdir(this.options.storagePath, { recursive: true });
    const log = await open(this.eventsPath, fsConstants.O_RDWR | fsConstants.O_CREAT, 0o644);
    const info = await log.stat();
    this.log = log;
    this.logInode = info.ino;
    this.logSize = info.size;
  }

  /**
   * Temp files of a rewrite that a crash interrupted (the rewrite never took
   * effect, so they are garbage), and lock candidates older than a minute of a
   * process that died before linking its lock.
   */
  private async removeLeftoverTempFiles(): Promise<void> {
    for (const name of await readdir(this.options.storagePath)) {
      const path = join(this.options.storagePath, name);
      const rewrite = name.startsWith('events.ndjson.tmp-') || name.startsWith('index.json.tmp-');
      const lockCandidate = name.startsWith('.lock.') && !name.startsWith('.lock.stale-');
      if (!rewrite && !lockCandidate) continue;
      if (
        lockCandidate &&
        Date.now() -
          (await stat(path).then(
            (s) => s.mtimeMs,
            () => Date.now(),
          )) <
          60_000
      )
        continue;
      await rm(path, { force: true });
      if (rewrite) this.logger.warn(`Removed ${name}, left by an interrupted rewrite`);
    }
  }

  private async closeLog(): Promise<void> {
    if (this.indexTimer) {
      clearTimeout(this.indexTimer);
      this.indexTimer = null;
      await this.writeIndex().catch((err) => this.logger.warn(`Could not write ${this.indexPath}: ${(err as Error).message}`));
    }
    const log = this.log;
    this.log = null;
    await log?.close();
  }

  /**
   * A crash in the middle of a write can leave a last line without its newline.
   * A complete event is kept (its newline added); anything else is moved to a
   * side file and cut off, so the next append starts on a fresh line.
   */
  private async repairTornTail(): Promise<void> {
    const log = this.log!;
    if (this.logSize === 0) return;
    const last = Buffer.alloc(1);
    await log.read(last, 0, 1, this.logSize - 1);
    if (last[0] === 10) return;
    let fragmentStart = 0;
    const window = Buffer.allocUnsafe(64 * 1024);
    for (let end = this.logSize; end > 0 && fragmentStart === 0;) {
      const start = Math.max(0, end - window.length);
      await log.read(window, 0, end - start, start);
      const newline = window.subarray(0, end - start).lastIndexOf(10);
      if (newline >= 0) fragmentStart = start + newline + 1;
      end = start;
    }
    const fragment = Buffer.allocUnsafe(this.logSize - fragmentStart);
    await log.read(fragment, 0, fragment.length, fragmentStart);
    if (fragment.length <= this.maxEventBytes && parseStoredLine(fragment.toString('utf8'), this.maxEventBytes)) {
      await log.write(Buffer.from('\n'), 0, 1, this.logSize);
      await log.datasync();
      this.logSize += 1;
      this.logger.warn(`${this.eventsPath} ended without a newline after a complete event; the newline was added`);
      return;
    }
    const asidePath = `${this.eventsPath}.torn-${Date.now()}`;
    await writeFile(asidePath, fragment, { flush: true });
    await log.truncate(fragmentStart);
    await log.datasync();
    this.logSize = fragmentStart;
    this.logger.warn(`${this.eventsPath} ended with a torn line (${fragment.length} bytes, from an interrupted write); moved it to ${asidePath}`);
  }

  /** Uses `index.json` when it describes this log; otherwise rebuilds it from the log (only the unindexed tail when possible). */
  private async loadIndex(): Promise<void> {
    const read = await this.readSavedIndex();
    const saved = read?.file;
    const index = read?.index;
    const sameLog = index && saved?.version === INDEX_VERSION && saved.logInode === this.logInode;
    if (sameLog && saved!.logSizeBytes === this.logSize) {
      this.index = index;
    } else if (sameLog && typeof saved!.logSizeBytes === 'number' && saved!.logSizeBytes < this.logSize) {
      this.index = index;
      const before = index.eventCount;
      await this.indexLines(this.index, saved!.logSizeBytes, this.logSize);
      await this.writeIndex();
      this.logger.log(`Indexed ${this.index.eventCount - before} event(s) appended after ${this.indexPath} was last written`);
    } else {
      this.index = new StoreIndex();
      await this.indexLines(this.index, 0, this.logSize);
      await this.writeIndex();
      if (saved || this.index.eventCount > 0) {
        this.logger.log(`Rebuilt ${this.indexPath} from ${this.index.eventCount} event(s) in the log`);
      }
    }
    if (this.index.corruptLines > 0) {
      this.logger.warn(`${this.eventsPath} has ${this.index.corruptLines} unreadable line(s); they are skipped and counted in the storage stats`);
    }
  }

  /** Adds the lines of log bytes `[start, end)` to `index`. */
  private async indexLines(index: StoreIndex, start: number, end: number): Promise<void> {
    for await (const chunk of readNdjsonLines(this.eventsPath, start, end, this.maxEventBytes * 2)) {
      let min = Infinity;
      let max = -Infinity;
      for (const line of chunk.lines) {
        if (isBlankLine(line)) continue;
        const event = parseStoredLine(line, this.maxEventBytes);
        if (!event) {
          index.corruptLines++;
          continue;
        }
        index.addEvent(event);
        if (event.timestamp < min) min = event.timestamp;
        if (event.timestamp > max) max = event.timestamp;
      }
      index.noteSpan(chunk.start, chunk.end, min, max);
    }
  }

  /** Pass one of compaction: each line's timestamp (NaN when unreadable) and task, in order. */
  private async scanTimestamps(): Promise<{ timestamps: Float64Array; taskCodes: Int32Array; taskNames: string[] }> {
    let timestamps = new Float64Array(Math.max(1024, this.index.eventCount + this.index.corruptLines));
    let taskCodes = new Int32Array(timestamps.length);
    const taskNames: string[] = [''];
    const codes = new Map<string, number>();
    let n = 0;
    for await (const { lines } of readNdjsonLines(this.eventsPath, 0, this.logSize, this.maxEventBytes * 2)) {
      for (const line of lines) {
        if (isBlankLine(line)) continue;
        if (n === timestamps.length) {
          const grownTs = new Float64Array(n * 2);
          grownTs.set(timestamps);
          timestamps = grownTs;
          const grownCodes = new Int32Array(n * 2);
          grownCodes.set(taskCodes);
          taskCodes = grownCodes;
        }
        const event = parseStoredLine(line, this.maxEventBytes);
        if (event) {
          let code = codes.get(event.taskId);
          if (code === undefined) {
            code = taskNames.push(event.taskId) - 1;
            codes.set(event.taskId, code);
          }
          timestamps[n] = event.timestamp;
          taskCodes[n] = code;
        } else {
          timestamps[n] = NaN;
        }
        n++;
      }
    }
    return { timestamps: timestamps.subarray(0, n), taskCodes: taskCodes.subarray(0, n), taskNames };
  }

  /**
   * Atomically replaces the log: lines go to a temporary file, which is synced
   * and renamed over `events.ndjson`; the directory is synced; the new index is
   * written. A crash at any point leaves the complete old or the complete new log.
   */
  private async replaceLog(fill: (write: (line: string, timestamp: number) => Promise<void>) => Promise<void>, index: StoreIndex): Promise<void> {
    const tempPath = `${this.eventsPath}.tmp-${process.pid}-${Date.now()}`;
    const temp = await open(tempPath, 'w', 0o644);
    const lines = new EncodedLineQueue();
    let size = 0;
    let min = Infinity;
    let max = -Infinity;
    const writeChunk = async () => {
      const bytes = lines.byteLength;
      if (bytes === 0) return;
      let position = size;
      for (const view of lines.peek(bytes)) {
        await writeFully(temp, view, position);
        position += view.length;
      }
      lines.shift(bytes);
      index.noteSpan(size, position, min, max);
      size = position;
      min = Infinity;
      max = -Infinity;
    };
    try {
      await fill(async (line, timestamp) => {
        lines.push(line);
        if (timestamp < min) min = timestamp;
        if (timestamp > max) max = timestamp;
        if (lines.byteLength >= REWRITE_CHUNK_BYTES) await writeChunk();
      });
      await writeChunk();
      await temp.sync();
      const inode = (await temp.stat()).ino;
      await temp.close();
      await rename(tempPath, this.eventsPath);
      await this.syncDirectory();
      await this.log?.close();
      this.log = await open(this.eventsPath, fsConstants.O_RDWR);
      this.logInode = inode;
      this.logSize = size;
      index.corruptLines = 0;
      this.index = index;
      await this.writeIndex();
    } catch (err) {
      await temp.close().catch(() => undefined);
      await unlink(tempPath).catch(() => undefined);
      throw err;
    }
  }

  private async syncDirectory(): Promise<void> {
    const dir = await open(this.options.storagePath, 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  }

  /**
   * Group commit: one positioned write of the whole batch, then one fdatasync.
   * Whether `events.ndjson` is still the file the store has open is checked
   * alongside the write (the stat costs a thread-pool round trip); if it was
   * removed or replaced, the batch is taken back out of the old file and
   * written at the path anew.
   */
  private async writeBatch(batch: QueuedEvent[], reopened = false): Promise<void> {
    await this.open();
    const log = this.log!;
    const moved = this.logWasMoved();
    moved.catch(() => undefined); // awaited below; a failed write may leave it unawaited
    let bytes = 0;
    for (const queued of batch) bytes += queued.bytes;
    let position = this.logSize;
    let stale: boolean;
    try {
      for (const view of this.encodedLines.peek(bytes)) {
        await writeFully(log, view, position);
        position += view.length;
      }
      stale = await moved;
      if (!stale) await log.datasync();
    } catch (err) {
      // Cut off whatever part of the batch reached the file, so the retry writes it exactly once.
      await log.truncate(this.logSize).catch(() => undefined);
      throw err;
    }
    if (stale) {
      await log.truncate(this.logSize).catch(() => undefined);
      await this.letGoOfMovedLog();
      if (reopened) throw new Error(`${this.eventsPath} was removed or replaced again while the store wrote to it`);
      return this.writeBatch(batch, true);
    }
    this.encodedLines.shift(bytes);
    let min = Infinity;
    let max = -Infinity;
    for (const { event } of batch) {
      this.index.addEvent(event);
      if (event.timestamp < min) min = event.timestamp;
      if (event.timestamp > max) max = event.timestamp;
    }
    this.index.noteSpan(this.logSize, position, min, max);
    this.logSize = position;
    this.scheduleIndexWrite();
  }

  /** Whether `events.ndjson` was removed or replaced since the store opened it. */
  private async logWasMoved(): Promise<boolean> {
    try {
      return (await stat(this.eventsPath)).ino !== this.logInode;
    } catch (err) {
      if (isErrno(err, 'ENOENT') || isErrno(err, 'ENOTDIR')) return true;
      throw err;
    }
  }

  /**
   * Writing on through the handle of a removed or replaced log would put
   * acknowledged events where nobody reads them. Let go of the old file and
   * lock so that `open()` takes the path anew (and fails loudly if that is impossible).
   */
  private async letGoOfMovedLog(): Promise<void> {
    this.logger.warn(`${this.eventsPath} was removed or replaced while the store had it open; reopening the path`);
    const log = this.log;
    this.log = null;
    await log?.close().catch(() => undefined);
    await this.lock.release();
  }

  private scheduleIndexWrite(): void {
    if (this.indexTimer) return;
    this.indexTimer = setTimeout(() => {
      this.indexTimer = null;
      this.writeIndex().catch((err) => this.logger.warn(`Could not write ${this.indexPath}: ${(err as Error).message}`));
    }, INDEX_WRITE_DELAY_MS);
    this.indexTimer.unref();
  }

  /** Writes `index.json` atomically (temp file + rename); writes are serialised so the latest state lands last. */
  private writeIndex(): Promise<void> {
    const write = async () => {
      const tempPath = `${this.indexPath}.tmp-${process.pid}`;
      await writeFile(tempPath, JSON.stringify(this.index.toFile(this.logSize, this.logInode), null, 2));
      await rename(tempPath, this.indexPath);
    };
    const result = this.indexWrites.then(write);
    this.indexWrites = result.catch(() => undefined);
    return result;
  }
}

/** Creates a file store at `path` (the original factory's signature). */
export function createEventStore(path: string, options: Omit<FileEventStoreOptions, 'storagePath'> = {}): FileEventStore {
  return new FileEventStore({ ...options, storagePath: path });
}
