import { LoggerService } from '@nestjs/common';
import { EventStore } from '../event-store';
import { RunLedgerOptions } from '../run-ledger';

/** Configuration of a {@link PersistentLedger}. */
export interface PersistentLedgerConfig extends RunLedgerOptions {
  /** Directory of the NDJSON store (ignored when `store` is given). @default '.ledger' */
  storagePath?: string;
  /** Compaction keeps the newest this many events. @default 10000 */
  maxEvents?: number;
  /** Compaction timer period outside Nest; 0 turns it off (the module uses the scheduler instead). @default 3600000 */
  compactIntervalMs?: number;
  /** Write each event in the background as it is logged; when false events are written by `flush()`, `save()`, compaction and shutdown. @default true */
  enableWAL?: boolean;
  /** When memory holds more events than this, a compaction runs at once (between scheduled ones); 0 turns it off. @default 2 x maxEvents */
  highWaterMark?: number;
  /** A file lock not refreshed for this long is taken over. @default 30000 */
  lockStaleMs?: number;
  /** Store to use instead of the NDJSON store at `storagePath`. */
  store?: EventStore;
  /** Where the ledger logs. @default new Logger('PersistentLedger') */
  logger?: LoggerService;
}
