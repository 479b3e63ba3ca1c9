import { LedgerError } from './ledger.error';

/**
 * Thrown at startup (by `init()`, so `LedgerModule` fails the app's bootstrap) when the
 * PostgreSQL storage could not be opened: the server unreachable, the password refused, the
 * database missing, ... after the retries of `storage.retryAttempts`. The message names the
 * `storage` option, where it points (`user@host:port/database`, never the password), the
 * driver's message and what to check.
 */
export class LedgerStorageUnavailableError extends LedgerError {
  override readonly name = 'LedgerStorageUnavailableError';
  /** The option that chose this storage. */
  readonly option = 'storage';
  /** The cause's error code: `ECONNREFUSED`, `ENOTFOUND`, a SQLSTATE such as `28P01`, when it has one. */
  readonly code: string | undefined;

  /**
   * @param target where the storage points, `user@host:port/database`
   * @param attempts how many times opening was tried
   * @param cause the driver's error of the last attempt
   * @param check what to check, as a clause following "Check "
   */
  constructor(
    readonly target: string,
    readonly attempts: number,
    override readonly cause: Error,
    check: string,
  ) {
    super(
      `nestjs-ledger could not open its PostgreSQL storage (option "storage") at ${target} after ${attempts} attempt${attempts === 1 ? '' : 's'}: ` +
        `${cause.message}. Check ${check}.`,
    );
    const code = (cause as { code?: unknown }).code;
    this.code = typeof code === 'string' ? code : undefined;
  }
}
