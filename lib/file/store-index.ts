import { RunEvent } from '../interfaces/run-event.interface';

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
}

export const INDEX_VERSION = 2;

/** The summary of the log, kept in memory and written to `index.json` from time to time. */
export class StoreIndex {
  eventCount = 0;
  oldestTimestamp: number | null = null;
  newestTimestamp: number | null = null;
  corruptLines = 0;
  readonly taskIds = new Set<string>();

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
    };
  }
}

/**
 * Parses one stored line. Returns null for a line that is not a JSON object
 * with a string `taskId` and a finite `timestamp` (such lines are skipped and counted).
 */
export function parseStoredLine(line: string): RunEvent | null {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return null;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return null;
  const event = value as RunEvent;
  return typeof event.taskId === 'string' && typeof event.timestamp === 'number' && Number.isFinite(event.timestamp) ? event : null;
}

/** Whether a line is empty or only whitespace (skipped silently, as the original did). */
export function isBlankLine(line: string): boolean {
  return line.length === 0 || (line.length < 4 && line.trim().length === 0);
}
