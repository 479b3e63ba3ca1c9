import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { PersistentLedger } from '../ledger/persistent-ledger';

/**
 * Closes the ledger with the application (`app.close()`, or a signal with
 * `app.enableShutdownHooks()`): waits for a compaction in progress, flushes
 * what is queued, then closes the store (releasing its lock or pool). Logs
 * failures, never throws.
 */
@Injectable()
export class LedgerShutdown implements BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger('LedgerModule');

  constructor(private readonly ledger: PersistentLedger) {}

  async beforeApplicationShutdown(): Promise<void> {
    try {
      await this.ledger.whenIdle();
      await this.ledger.flush();
    } catch (err) {
      this.logger.error(`Flushing the ledger at shutdown failed: ${(err as Error).message}`, (err as Error).stack);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    try {
      await this.ledger.close();
    } catch (err) {
      this.logger.error(`Closing the ledger at shutdown failed: ${(err as Error).message}`, (err as Error).stack);
    }
  }
}
