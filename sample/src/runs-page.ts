import { BadRequestException, GoneException } from '@nestjs/common';
import { RunEvent } from 'nestjs-ledger';

/** `GET /runs?limit=`: events per page by default, and at most. */
export const RUNS_PAGE = { defaultLimit: 100, maxLimit: 1_000 } as const;

/** One page of `GET /runs`: events in memory order; `next` is the `after` of the following page, null on the last. */
export interface RunsPage {
  events: RunEvent[];
  next: string | null;
}

/** `?limit=`: an integer from 1 to {@link RUNS_PAGE.maxLimit}; absent gives the default. */
export function pageLimit(value: string | undefined): number {
  if (value === undefined || value === '') return RUNS_PAGE.defaultLimit;
  const limit = Number(value);
  if (!Number.isInteger(limit) || limit < 1 || limit > RUNS_PAGE.maxLimit) {
    throw new BadRequestException(`Query parameter "limit" must be an integer from 1 to ${RUNS_PAGE.maxLimit} (default ${RUNS_PAGE.defaultLimit})`);
  }
  return limit;
}

/**
 * The page of `events` passing `matches` after the cursor `after` (from the first event without it).
 * The cursor is opaque to clients: the last event's index and id, so the next request starts where
 * this one ended in one step, and finds the event by id when memory changed in between (a compaction,
 * a replica's events moved into store order).
 *
 * @throws BadRequestException for a cursor this endpoint did not give; GoneException when its event was compacted away.
 */
export function pageOfEvents(events: readonly RunEvent[], matches: (event: RunEvent) => boolean, limit: number, after?: string): RunsPage {
  let start = 0;
  if (after !== undefined && after !== '') {
    const cursor = decodeCursor(after);
    const at = events[cursor.index]?.eventId === cursor.eventId ? cursor.index : events.findIndex((e) => e.eventId === cursor.eventId);
    if (at < 0) throw new GoneException('The event of "after" is no longer held (compacted away): start again without "after"');
    start = at + 1;
  }
  const page: RunEvent[] = [];
  let last = -1;
  for (let i = start; i < events.length; i++) {
    if (!matches(events[i])) continue;
    // One match beyond the page says whether there is a next page.
    if (page.length === limit) return { events: page, next: encodeCursor(last, events[last].eventId) };
    page.push(events[i]);
    last = i;
  }
  return { events: page, next: null };
}

function encodeCursor(index: number, eventId: string): string {
  return Buffer.from(JSON.stringify([index, eventId])).toString('base64url');
}

function decodeCursor(cursor: string): { index: number; eventId: string } {
  try {
    const [index, eventId] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    if (Number.isInteger(index) && typeof eventId === 'string') return { index: index as number, eventId };
  } catch {
    // Not JSON: refused below.
  }
  throw new BadRequestException('Query parameter "after" is not a cursor this endpoint gave (use the "next" of the previous page)');
}
