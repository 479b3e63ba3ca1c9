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
  /** Stored lines that could not be parsed and are skipped on read. */
  corruptLines: number;
}
