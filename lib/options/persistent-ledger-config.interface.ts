import { LoggerService } from '@nestjs/common';
import { LedgerOptions } from './ledger-options.interface';

/** Configuration of a {@link PersistentLedger} made outside Nest (`createPersistentLedger`). */
export interface PersistentLedgerConfig extends LedgerOptions {
  /** Compaction timer period outside Nest; 0 turns it off (the module uses the scheduler instead). @default 3600000 */
  compactIntervalMs?: number | undefined;
  /** Where the ledger logs. @default new Logger('PersistentLedger') */
  logger?: LoggerService | undefined;
}
