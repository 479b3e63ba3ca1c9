/** A stored line or row that is not a valid run event. */
export interface DamagedRecord {
  /** NDJSON: 1-based line number in `events.ndjson`. */
  line?: number;
  /** NDJSON: byte offset of the line's first byte. */
  byteOffset?: number;
  /** PostgreSQL: the row's `position`. */
  position?: string;
  /** PostgreSQL: the row's `event_id`. */
  eventId?: string;
  /** What is wrong: not JSON, which field is invalid, an interrupted write. */
  reason: string;
}

/** What `verify()` found by reading every stored line or row. */
export interface StoreVerification {
  /** No damaged record and no inconsistency between the index and the data. */
  sound: boolean;
  /** Lines or rows read (blank lines excluded). */
  records: number;
  /** Of those, valid events. */
  events: number;
  /** Damaged records, in store order (at most the first 1000; `damagedCount` has them all). */
  damaged: DamagedRecord[];
  damagedCount: number;
  /** Where the index disagrees with the data (makes the store unsound). */
  indexProblems: string[];
  /** Worth knowing, not damage (a stale index that the next open rebuilds). */
  notes: string[];
}

/** Reports bytes or rows done of a total, for progress bars. */
export type ProgressListener = (done: number, total: number) => void;

/** The largest number of damaged records a verification lists. */
export const MAX_DAMAGED_LISTED = 1_000;
