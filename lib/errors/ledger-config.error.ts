import { LedgerError } from './ledger.error';

/** Thrown at startup when a module or ledger option is invalid. Names the option. */
export class LedgerConfigError extends LedgerError {
  override readonly name = 'LedgerConfigError';

  constructor(
    readonly option: string,
    problem: string,
  ) {
    super(`Invalid nestjs-ledger option "${option}": ${problem}`);
  }
}
