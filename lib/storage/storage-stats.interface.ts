/** What a store reports about itself: size, span, and the health of its writer. */
export interface StorageStats {
  /** Events stored (corrupt lines excluded). */
  eventCount: number;
  /** Bytes on disk (log + index) or in the table. */
  storageSizeBytes: number;
  /** Oldest event timestamp, or null when empty. */
  oldestEvent: number | null;
  /** Newest event timestamp, or null when empty. */
  newestEvent: number | null;
  /** `'ndjson'` or `'postgres'`. */
  driver: string;
  /** Events queued in memory that are not yet durable. */
  pendingEvents: number;
  /** False when the most recent write attempt failed. */
  lastWriteOk: boolean;
  /** Message of the most recent write failure, while it lasts. */
  lastWriteError: string | null;
  /** Stored lines (rows) that are not valid events and are skipped on read. */
  corruptLines: number;
  /**
   * Events the store refused for good and set aside (PostgreSQL: rows of the
   * `<table>_rejected` dead-letter table; always 0 on the NDJSON store).
   */
  refusedEvents: number;
  /**
   * True when `eventCount`, `storageSizeBytes`, `oldestEvent`, `newestEvent`
   * and `refusedEvents` are the last known values, because the storage could
   * not be read now (PostgreSQL unreachable). The writer's health fields are always current.
   */
  countsStale: boolean;
  /**
   * True when this process held the NDJSON store's lock and found it removed or
   * replaced by someone else (writes are no longer exclusive), or could not
   * refresh it. Absent or false on the other stores.
   */
  lockLost?: boolean | undefined;
}
