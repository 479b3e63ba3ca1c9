/** The log's lines as events: the events of byte ranges, the summary of a range, the timestamps compaction plans with. */
import { RunEvent } from '../../events/run-event.interface';
import { EventQuery } from '../event-store';
import { readNdjsonLines } from './ndjson-line.reader';
import { StoreIndex } from './log-summary';
import { isBlankLine, parseStoredLine } from './stored-line';

/**
 * Reads validated events from byte ranges of the log, in order. With
 * `query.taskId`, lines that do not contain the id as a JSON string are not parsed.
 */
export async function* readLogEvents(path: string, ranges: [number, number][], query: EventQuery, maxEventBytes: number): AsyncIterable<RunEvent[]> {
  const from = query.from ?? -Infinity;
  const to = query.to ?? Infinity;
  const taskNeedle = query.taskId === undefined ? null : JSON.stringify(query.taskId);
  for (const [rangeStart, rangeEnd] of ranges) {
    for await (const { lines } of readNdjsonLines(path, rangeStart, rangeEnd, maxEventBytes * 2)) {
      const batch: RunEvent[] = [];
      for (const line of lines) {
        if (isBlankLine(line)) continue;
        // A line without the task id as a JSON string cannot belong to the task: skip the parse.
        if (taskNeedle !== null && !line.includes(taskNeedle)) continue;
        const event = parseStoredLine(line, maxEventBytes);
        if (!event || event.timestamp < from || event.timestamp > to) continue;
        if (query.taskId !== undefined && event.taskId !== query.taskId) continue;
        batch.push(event);
      }
      if (batch.length > 0) yield batch;
    }
  }
}

/** Adds the lines of log bytes `[start, end)` to `index` (events, corrupt lines, block spans). */
export async function indexLogLines(path: string, index: StoreIndex, start: number, end: number, maxEventBytes: number): Promise<void> {
  for await (const chunk of readNdjsonLines(path, start, end, maxEventBytes * 2)) {
    let min = Infinity;
    let max = -Infinity;
    for (const line of chunk.lines) {
      if (isBlankLine(line)) continue;
      const event = parseStoredLine(line, maxEventBytes);
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

/** Each line's timestamp (NaN when it is not a valid event) and a code for its task, in order. */
export interface LogTimestamps {
  timestamps: Float64Array;
  taskCodes: Int32Array;
  taskNames: string[];
}

/**
 * Pass one of compaction: 12 bytes per line instead of the events.
 * `sizeHint` pre-sizes the arrays (the index's line count).
 */
export async function scanLogTimestamps(
  path: string,
  end: number,
  sizeHint: number,
  maxEventBytes: number,
  onChunk?: (bytesRead: number) => void,
): Promise<LogTimestamps> {
  let timestamps = new Float64Array(Math.max(1024, sizeHint));
  let taskCodes = new Int32Array(timestamps.length);
  const taskNames: string[] = [''];
  const codes = new Map<string, number>();
  let n = 0;
  for await (const { lines, end: chunkEnd } of readNdjsonLines(path, 0, end, maxEventBytes * 2)) {
    onChunk?.(chunkEnd);
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
      const event = parseStoredLine(line, maxEventBytes);
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
