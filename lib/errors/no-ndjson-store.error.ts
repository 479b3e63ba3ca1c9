import { join } from 'node:path';
import { LedgerError } from './ledger.error';

/** Thrown by `copyNdjsonToPostgres` when `from` holds no NDJSON store; nothing was created. */
export class NoNdjsonStoreError extends LedgerError {
  override readonly name = 'NoNdjsonStoreError';

  constructor(readonly from: string) {
    super(
      `No NDJSON store at ${from}: ${join(from, 'events.ndjson')} does not exist. Give the storagePath of the app's ledger; nothing was created.`,
    );
  }
}
