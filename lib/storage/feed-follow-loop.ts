/** The generic follow loop of a paged feed (start, pages, epoch resets, caught-up, backoff), apart from any driver's query. */
import type { LoggerService } from '@nestjs/common';
import { RunEvent } from '../events/run-event.interface';
import type { FeedBatch } from './event-store';

/** How soon a caught-up feed looks again while rows may wait behind a running transaction (they become readable within milliseconds). */
const WAITING_ROWS_LOOK_MS = 20;

/** What wakes a caught-up feed: the store's notification, or its poll interval. */
export interface FeedWakeup {
  /** Why the feed only polls now, or null when the store wakes it. */
  readonly pollingReason: string | null;
  /** Starts listening when it does not yet and may try; never throws (the feed polls meanwhile). */
  ensureListening(): Promise<void>;
  /** Waits for a notification (one that came meanwhile counts), `ms`, or the signal. */
  wait(ms: number, signal: AbortSignal): Promise<void>;
}

/** One page a driver read after a cursor. */
export interface FollowedPage<C> {
  /** The store's epoch when the page was read: when it differs from the cursor's, the feed starts over. */
  epoch: string;
  /** The cursor after the page's last row (in the cursor's epoch), or null when the page is empty. */
  next: C | null;
  /** The page was not full: the feed has read everything readable now. */
  caughtUp: boolean;
  /** Rows may wait behind a transaction still running: a caught-up feed looks again within milliseconds. */
  rowsMayWait: boolean;
  /** Live pages: seconds since the page's last row was stored, for the delay metric. */
  lastAge?: number | undefined;
  /** The page's events, restored when asked (a page met across an epoch change is never decoded). */
  events(): RunEvent[];
}

/** A driver's feed, page by page: what {@link followFeed} needs of it. */
export interface PagedFeedSource<C extends { epoch: string }> {
  /** Where to start for `TailOptions.after`; `reset` when the requested cursor belongs to an older epoch. */
  start(after: string | null | undefined): Promise<{ cursor: C; reset: boolean }>;
  /** The page after `cursor`; `live` once the feed has caught up (the driver may then reuse the follower's own copies). */
  readPage(cursor: C, live: boolean): Promise<FollowedPage<C>>;
  /** The cursor before the first row of `epoch`. */
  origin(epoch: string): C;
  /** The cursor as `FeedBatch.cursor` gives it. */
  format(cursor: C): string;
}

/** How {@link followFeed} runs. */
export interface FollowOptions {
  /** Where to start, as `TailOptions.after` says. */
  after: string | null | undefined;
  /** Ends the loop. */
  signal: AbortSignal;
  /** Wait between looks when not woken, and the longest backoff after a failed read. */
  pollIntervalMs: number;
  logger: LoggerService;
  /** Where the feed reads, for its warning when a read fails. */
  location: string;
  /** Told each live page's delay (seconds since its last row was stored). */
  onLiveDelay(seconds: number): void;
}

/**
 * Follows `source` until the signal aborts: reads pages after the cursor, yields a batch for each page
 * with events (and for each caught-up or reset page), starts over when the epoch changed (a rewrite),
 * waits for `wakeup` once caught up, and retries a failed read from its cursor with backoff.
 */
export async function* followFeed<C extends { epoch: string }>(
  source: PagedFeedSource<C>,
  wakeup: FeedWakeup,
  { after, signal, pollIntervalMs, logger, location, onLiveDelay }: FollowOptions,
): AsyncIterable<FeedBatch> {
  let { cursor, reset } = await source.start(after);
  let failures = 0;
  let live = false;
  while (!signal.aborted) {
    let page: FollowedPage<C>;
    // Never fails: without notifications the feed polls, so the page is read either way.
    await wakeup.ensureListening();
    try {
      page = await source.readPage(cursor, live);
      failures = 0;
    } catch (err) {
      if (failures++ === 0) logger.warn(`Ledger feed of ${location} could not read (${(err as Error).message}); retrying from its cursor`);
      await wakeup.wait(Math.min(pollIntervalMs, 100 * 2 ** failures), signal);
      continue;
    }
    if (page.epoch !== cursor.epoch) {
      // Rewritten (compaction, writeAll) since the cursor: start over.
      cursor = source.origin(page.epoch);
      reset = true;
      live = false;
      continue;
    }
    if (page.next) cursor = page.next;
    const { caughtUp } = page;
    // Live pages only: while catching up, a row's age is how long this replica was away, not the feed's delay.
    if (caughtUp && page.lastAge !== undefined && !reset) onLiveDelay(page.lastAge);
    const events = page.events();
    if (caughtUp) live = true;
    if (events.length > 0 || caughtUp || reset) {
      yield { events, cursor: source.format(cursor), caughtUp, reset, polling: wakeup.pollingReason };
      reset = false;
    }
    if (caughtUp) await wakeup.wait(page.rowsMayWait ? WAITING_ROWS_LOOK_MS : pollIntervalMs, signal);
  }
}
