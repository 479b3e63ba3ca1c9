/** How current a ledger's memory is with its store's feed (see `PersistentLedger.getFeedStatus()`). */
export interface LedgerFeedStatus {
  /** The ledger follows its store's feed (from `init()` to `close()`, unless the feed failed). */
  following: boolean;
  /**
   * On a store shared by replicas (PostgreSQL): milliseconds since the feed last
   * confirmed that memory holds everything committed (it does so at least every
   * `pollIntervalMs`), so a growing value means other replicas' events are not
   * arriving. Null on the other stores (their feed only drives `events$`) and before the first load.
   */
  lagMs: number | null;
  /** Why the feed stopped, if it did. */
  error: string | null;
  /**
   * Why the feed only polls instead of being woken by the store (PostgreSQL: `LISTEN` refused, e.g.
   * behind a transaction pooler, or its connection lost), or null. It still delivers everything,
   * within `pollIntervalMs` instead of milliseconds.
   */
  polling: string | null;
}
