/** Validating and quoting schema and table names. */
import { LedgerConfigError } from '../../errors/ledger-config.error';

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/**
 * PostgreSQL cannot take schema or table names as query parameters, so they are
 * validated (letters, digits, underscores, at most 63 characters, not starting
 * with a digit) and double-quoted. Anything else is refused at startup.
 *
 * @throws LedgerConfigError naming the option.
 */
export function sqlIdentifier(option: string, name: unknown): string {
  if (typeof name !== 'string' || !IDENTIFIER.test(name)) {
    throw new LedgerConfigError(
      option,
      `must be a plain SQL identifier (letters, digits and _, at most 63 characters, not starting with a digit); got ${JSON.stringify(name)}`,
    );
  }
  return `"${name}"`;
}
