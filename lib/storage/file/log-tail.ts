/** The NDJSON store's feed: the log from a cursor, then the writer's batches in its process, or polls of the file elsewhere. */
import { setTimeout } from 'node:timers/promises';
import { RunEvent } from '../../events/run-event.interface';
import { FeedBatch, TailOptions } from '../event-store';
import { HubSubscription } from '../feed-hub';
import { readNdjsonLines } from './ndjson-line.reader';
import { isBlankLine, parseStoredLine } from './stored-line';

/** How often a tail in a process that does not write the store looks for new lines. */
const FOLLOW_POLL_MS = 200;

/** What a tail reads: the log's path and line limit, the writer's batches (in its process), the log's extent now. */
export interface LogTailSource {
  eventsPath: string;
  maxEventBytes: number;
  /** The writer's batches as they are synced, when this process writes the store; null elsewhere. */
  subscribe(): HubSubscription | null;
  /** The log's inode and the size that holds complete lines. */
  extent(): Promise<{ inode: number; size: number }>;
}

/** Waits `ms`, or less when `signal` aborts (its listener is removed either way). */
async function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  await setTimeout(ms, undefined, { signal }).catch((err: Error) => {
    if (err.name !== 'AbortError') throw err;
  });
}

/**
 * Cursors are `inode:byte offset` of `events.ndjson`. The writer's own tails follow its batches
 * as they are synced; a tail in another process polls the file. A rewrite (compaction,
 * `writeAll`) replaces the file: tails start over.
 */
export async function* tailLog(source: LogTailSource, options: TailOptions = {}): AsyncIterable<FeedBatch> {
  const subscription = source.subscribe();
  try {
    let { inode, size } = await source.extent();
    let offset = size;
    let reset = false;
    if (options.after === null) offset = 0;
    else if (options.after !== undefined) {
      const [afterInode, afterOffset] = options.after.split(':').map(Number);
      reset = afterInode !== inode || afterOffset > size;
      offset = reset ? 0 : afterOffset;
    }
    let caughtUp = false;
    for (;;) {
      // From the file: what was stored from `offset` to the last complete line.
      let events: RunEvent[] = [];
      for await (const chunk of readNdjsonLines(source.eventsPath, offset, size, source.maxEventBytes * 2)) {
        if (events.length > 0) yield { events, cursor: `${inode}:${offset}`, caughtUp: false, reset };
        if (events.length > 0) reset = false;
        events = [];
        for (const line of chunk.lines) {
          const event = isBlankLine(line) ? null : parseStoredLine(line, source.maxEventBytes);
          if (event) events.push(event);
        }
        offset = chunk.end;
      }
      if (events.length > 0 || !caughtUp || reset) yield { events, cursor: `${inode}:${offset}`, caughtUp: true, reset };
      caughtUp = true;
      reset = false;
      if (subscription) {
        // The writer's batches as they are synced, without reading them back.
        for (;;) {
          const item = await subscription.next(options.signal);
          if (!item) return;
          if (item.reset) {
            ({ inode, size } = await source.extent());
            offset = 0;
            reset = true;
            break;
          }
          const end = Number(item.cursor.split(':')[1]);
          if (end <= offset) continue;
          offset = end;
          yield { events: item.events, cursor: item.cursor, caughtUp: true, reset: false };
        }
      } else {
        await sleep(FOLLOW_POLL_MS, options.signal);
        if (options.signal?.aborted) return;
        const extent = await source.extent();
        if (extent.inode !== inode || extent.size < offset) {
          offset = 0;
          reset = true;
        }
        ({ inode, size } = extent);
      }
    }
  } finally {
    subscription?.close();
  }
}
