import { LedgerConfigError } from '../errors/ledger-config.error';
import { LEDGER_DEFAULTS } from './ledger-defaults';
import { MAX_TIMER_MS, ResolvedLedgerOptions, positiveInteger, resolveLedgerOptions } from './ledger-options.resolver';
import { PersistentLedgerConfig } from './persistent-ledger-config.interface';

/** A {@link PersistentLedgerConfig} after validation, with every default applied. */
export interface ResolvedPersistentLedgerConfig extends ResolvedLedgerOptions {
  compactIntervalMs: number;
}

/**
 * Checks `createPersistentLedger`'s configuration: the ledger options and the timer period of its own.
 *
 * @throws LedgerConfigError naming the first invalid option.
 */
export function resolvePersistentLedgerConfig(config: PersistentLedgerConfig): ResolvedPersistentLedgerConfig {
  const options = resolveLedgerOptions(config, ['compactIntervalMs', 'logger']);
  const compactIntervalMs = positiveInteger('compactIntervalMs', config.compactIntervalMs, LEDGER_DEFAULTS.compactIntervalMs, true);
  if (compactIntervalMs > MAX_TIMER_MS)
    throw new LedgerConfigError('compactIntervalMs', `must be at most ${MAX_TIMER_MS} ms (the longest Node.js timer)`);
  return { ...options, compactIntervalMs };
}
