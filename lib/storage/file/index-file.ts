import { readFile, rename, writeFile } from 'node:fs/promises';
import { LoggerService } from '@nestjs/common';
import { indexLogLines } from './log-scan';
import { NdjsonLog } from './ndjson-log';
import { INDEX_VERSION, StoreIndex, StoreIndexFile } from './log-summary';

/** How long appends may leave `index.json` behind the log (it is verified on open anyway). */
const INDEX_WRITE_DELAY_MS = 1_000;

/** `index.json` as saved, or null when it is missing, unparseable or wrongly shaped. */
export async function readSavedIndex(path: string): Promise<{ file: StoreIndexFile; index: StoreIndex } | null> {
  let file: StoreIndexFile;
  try {
    file = JSON.parse(await readFile(path, 'utf8')) as StoreIndexFile;
  } catch {
    return null;
  }
  const index = StoreIndex.fromFile(file);
  return index ? { file, index } : null;
}

/** Whether a saved index describes the log with this inode and size, in this release's format. */
export function describesLog(file: StoreIndexFile, inode: number, size: number): boolean {
  return file.version === INDEX_VERSION && file.logInode === inode && file.logSizeBytes === size;
}

/**
 * The in-memory {@link StoreIndex} of an open log and its copy in `index.json`:
 * verified against the log on open, written atomically, at most once a second while appending.
 */
export class IndexFile {
  index = new StoreIndex();
  private timer: NodeJS.Timeout | null = null;
  private writes: Promise<void> = Promise.resolve();

  constructor(
    readonly path: string,
    private readonly log: NdjsonLog,
    private readonly maxEventBytes: number,
    private readonly logger: LoggerService,
  ) {}

  /** Uses `index.json` when it describes the log; otherwise rebuilds it from the log (only the unindexed tail when possible). */
  async load(): Promise<void> {
    const saved = await readSavedIndex(this.path);
    const sameLog = saved !== null && saved.file.version === INDEX_VERSION && saved.file.logInode === this.log.inode;
    const savedSize = saved?.file.logSizeBytes;
    if (sameLog && savedSize === this.log.size) {
      this.index = saved.index;
    } else if (sameLog && typeof savedSize === 'number' && savedSize < this.log.size) {
      this.index = saved.index;
      const before = this.index.eventCount;
      await indexLogLines(this.log.path, this.index, savedSize, this.log.size, this.maxEventBytes);
      await this.write();
      this.logger.log(`Indexed ${this.index.eventCount - before} event(s) appended after ${this.path} was last written`);
    } else {
      this.index = new StoreIndex();
      await indexLogLines(this.log.path, this.index, 0, this.log.size, this.maxEventBytes);
      await this.write();
      if (saved || this.index.eventCount > 0) this.logger.log(`Rebuilt ${this.path} from ${this.index.eventCount} event(s) in the log`);
    }
    if (this.index.corruptLines > 0) {
      this.logger.warn(`${this.log.path} has ${this.index.corruptLines} unreadable line(s); they are skipped and counted in the storage stats`);
    }
  }

  /** Writes `index.json` within a second (appends call this after every batch). */
  scheduleWrite(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.write().catch((err) => this.logger.warn(`Could not write ${this.path}: ${(err as Error).message}`));
    }, INDEX_WRITE_DELAY_MS);
    this.timer.unref();
  }

  /** Writes a scheduled update now (at close); failures are logged, the index is rebuilt on the next open anyway. */
  async writePending(): Promise<void> {
    if (!this.timer) return;
    clearTimeout(this.timer);
    this.timer = null;
    await this.write().catch((err) => this.logger.warn(`Could not write ${this.path}: ${(err as Error).message}`));
  }

  /** Drops a scheduled update (the store was lost to another process: its index is not this writer's to write). */
  discardPending(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** Writes `index.json` atomically (temp file + rename); writes are serialised so the latest state lands last. */
  write(): Promise<void> {
    const write = async () => {
      const tempPath = `${this.path}.tmp-${process.pid}`;
      await writeFile(tempPath, JSON.stringify(this.index.toFile(this.log.size, this.log.inode), null, 2));
      await rename(tempPath, this.path);
    };
    const result = this.writes.then(write);
    this.writes = result.catch(() => undefined);
    return result;
  }
}
