/** The PostgreSQL feed's cursor, `epoch:tx:position`: its parts, and its text form. */

/** Where a PostgreSQL feed stands: the table's epoch (rewrites so far), then the last row's inserting transaction and position. */
export interface FeedCursor {
  epoch: string;
  /** The row's `tx` (xid8) as text. */
  tx: string;
  /** The row's `position` (bigint) as text. */
  position: string;
}

/** The cursor before the first row of `epoch`. */
export function feedOrigin(epoch: string): FeedCursor {
  return { epoch, tx: '0', position: '0' };
}

/** The cursor as `FeedBatch.cursor` gives it: `epoch:tx:position`. */
export function formatFeedCursor({ epoch, tx, position }: FeedCursor): string {
  return `${epoch}:${tx}:${position}`;
}

/** The parts of a cursor's text, or null when it lacks one (the feed then starts over). */
export function parseFeedCursor(text: string): FeedCursor | null {
  const [epoch, tx, position] = text.split(':');
  if (tx === undefined || position === undefined) return null;
  return { epoch, tx, position };
}
