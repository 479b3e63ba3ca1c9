/** Loading the optional `pg` peer dependency, with what to install when it is missing. */
import type * as Pg from 'pg';
import { LedgerConfigError } from '../errors/ledger-config.error';

/**
 * Loads the optional `pg` peer dependency.
 *
 * @throws LedgerConfigError saying what to install when it is missing.
 */
export function loadPg(): typeof Pg {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('pg') as typeof Pg;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND') {
      throw new LedgerConfigError('storage', "the PostgreSQL storage needs the 'pg' package: run npm install pg");
    }
    throw err;
  }
}
