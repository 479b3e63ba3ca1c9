import { LoggerService } from '@nestjs/common';
import { EventStore } from '../storage/event-store';
import { RunLedgerOptions } from '../ledger/run-ledger';

/** Configuration of a {@link PersistentLedger}. */
export interface PersistentLedgerConfig extends RunLedgerOptions {
  /** Directory of the NDJSON store (ignored when `store` is given). @default '.ledger' */
  storagePath?: string | undefined;
  /** Compaction keeps the newest this many events. @default 10000 */
  maxEvents?: number | undefined;
  /** Compaction timer period outside Nest; 0 turns it off (the module uses the scheduler instead). @default 3600000 */
  compactIntervalMs?: number | undefined;
  /** Write each event in the background as it is logged; when false events are written by `flush()`, `save()`, compaction and shutdown. @default true */
  enableWAL?: boolean | undefined;
  /** When memory holds more events than this, a compaction runs at once (between scheduled ones); 0 turns it off. @default 2 x maxEvents */
  highWaterMark?: number | undefined;
  /** A file lock not refreshed for this long is taken over. @default 30000 */
  lockStaleMs?: number | undefined;
  /** Store to use instead of the NDJSON store at `storagePath`. */
  store?: EventStore | undefined;
  /** Where the ledger logs. @default new Logger('PersistentLedger') */
  logger?: LoggerService | undefined;
}
