/** The summary of the log kept in memory (counts, task ids, time blocks) and its shape in `index.json`. */
import { RunEvent } from '../../events/run-event.interface';

/**
 * Contents of `index.json`. The first four fields are the original layout;
 * `version`, `logSizeBytes`, `logInode` and `corruptLines` let an opener tell
 * whether the index still describes `events.ndjson` (and rebuild it if not).
 */
export interface StoreIndexFile {
  eventCount: number;
  oldestTimestamp: number | null;
  newestTimestamp: number | null;
  taskIds: string[];
  version?: number;
  logSizeBytes?: number;
  logInode?: number;
  corruptLines?: number;
  /** Sparse time index: `[offset, minTimestamp, maxTimestamp]` per block of about 1 MiB of log, flattened. */
  blocks?: number[];
}

/** Appends are folded into the last block until it spans this many bytes. */
const BLOCK_BYTES = 1024 * 1024;

/**
 * Version 4: a timestamp no `Date` can hold (beyond ±8.64e15 ms) makes a line corrupt (a version 3
 * index may count it as an event, and span to it). Version 3: lines are validated as events when
 * indexed (older indexes counted fewer corrupt lines). An index of another version is rebuilt.
 */
export const INDEX_VERSION = 4;

/** The summary of the log, kept in memory and written to `index.json` from time to time. */
export class StoreIndex {
  eventCount = 0;
  oldestTimestamp: number | null = null;
  newestTimestamp: number | null = null;
  corruptLines = 0;
  readonly taskIds = new Set<string>();
  /**
   * Contiguous blocks of the log, flattened as offset, min and max timestamp.
   * A block ends where the next begins (the last at the log's end). Range reads
   * skip blocks whose span misses the range.
   */
  blocks: number[] = [];

  /** Reads a parsed `index.json`; returns null when its shape is wrong. */
  static fromFile(data: unknown): StoreIndex | null {
    const file = data as StoreIndexFile;
    if (
      !file ||
      typeof file !== 'object' ||
      !Number.isInteger(file.eventCount) ||
      file.eventCount < 0 ||
      !Array.isArray(file.taskIds) ||
      !(file.oldestTimestamp === null || typeof file.oldestTimestamp === 'number') ||
      !(file.newestTimestamp === null || typeof file.newestTimestamp === 'number')
    ) {
      return null;
    }
    const index = new StoreIndex();
    index.eventCount = file.eventCount;
    index.oldestTimestamp = file.oldestTimestamp;
    index.newestTimestamp = file.newestTimestamp;
    index.corruptLines = Number.isInteger(file.corruptLines) ? file.corruptLines! : 0;
    for (const id of file.taskIds) if (typeof id === 'string') index.taskIds.add(id);
    const blocks = file.blocks;
    if (!Array.isArray(blocks) || blocks.length % 3 !== 0 || (blocks.length > 0 && blocks[0] !== 0)) return null;
    // An empty block's span is written as nulls (JSON has no Infinity).
    index.blocks = blocks.map((n, i) => (typeof n === 'number' ? n : i % 3 === 1 ? Infinity : -Infinity));
    if (index.blocks.some((n, i) => i % 3 === 0 && !Number.isInteger(n))) return null;
    return index;
  }

  add(timestamp: number, taskId: string): void {
    this.eventCount++;
    if (this.oldestTimestamp === null || timestamp < this.oldestTimestamp) this.oldestTimestamp = timestamp;
    if (this.newestTimestamp === null || timestamp > this.newestTimestamp) this.newestTimestamp = timestamp;
    this.taskIds.add(taskId);
  }

  addEvent(event: RunEvent): void {
    this.add(event.timestamp, event.taskId);
  }

  /** Records that log bytes `[start, end)` hold events timestamped within `[minTs, maxTs]`. */
  noteSpan(start: number, end: number, minTs: number, maxTs: number): void {
    const last = this.blocks.length - 3;
    if (last >= 0 && end - this.blocks[last] <= BLOCK_BYTES) {
      this.blocks[last + 1] = Math.min(this.blocks[last + 1], minTs);
      this.blocks[last + 2] = Math.max(this.blocks[last + 2], maxTs);
    } else {
      this.blocks.push(start, minTs, maxTs);
    }
  }

  /**
   * Byte ranges of a log of `logSize` bytes that can hold events within
   * `[from, to]`; adjacent blocks are merged into one range.
   */
  rangesFor(from: number, to: number, logSize: number): [number, number][] {
    const ranges: [number, number][] = [];
    for (let i = 0; i < this.blocks.length; i += 3) {
      const min = this.blocks[i + 1];
      const max = this.blocks[i + 2];
      if (min > max || max < from || min > to) continue;
      const start = this.blocks[i];
      const end = i + 3 < this.blocks.length ? this.blocks[i + 3] : logSize;
      const previous = ranges[ranges.length - 1];
      if (previous && previous[1] === start) previous[1] = end;
      else ranges.push([start, end]);
    }
    return ranges;
  }

  toFile(logSizeBytes: number, logInode: number): StoreIndexFile {
    return {
      eventCount: this.eventCount,
      oldestTimestamp: this.oldestTimestamp,
      newestTimestamp: this.newestTimestamp,
      taskIds: [...this.taskIds],
      version: INDEX_VERSION,
      logSizeBytes,
      logInode,
      corruptLines: this.corruptLines,
      blocks: this.blocks.map((n) => (Number.isFinite(n) ? n : null)) as number[],
    };
  }
}
