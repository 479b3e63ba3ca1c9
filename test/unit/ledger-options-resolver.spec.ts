/**
 * Option resolution: checks, defaults and messages of the ledger and module options.
 */
import { LEDGER_DEFAULTS, LedgerConfigError } from '../../lib';
import { resolveLedgerOptions, resolveModuleOptions } from '../../lib/options/ledger-options.resolver';

describe('option resolution', () => {
  it('applies every default from LEDGER_DEFAULTS', () => {
    expect(resolveLedgerOptions({})).toEqual({
      storagePath: LEDGER_DEFAULTS.storagePath,
      maxEvents: LEDGER_DEFAULTS.maxEvents,
      autoFlush: LEDGER_DEFAULTS.autoFlush,
      highWaterMark: LEDGER_DEFAULTS.maxEvents * LEDGER_DEFAULTS.highWaterMarkFactor,
      lockStaleMs: LEDGER_DEFAULTS.lockStaleMs,
      maxEventBytes: LEDGER_DEFAULTS.maxEventBytes,
      unknownFields: LEDGER_DEFAULTS.unknownFields,
      storage: { type: 'ndjson' },
    });
    expect(resolveModuleOptions({}).compaction).toEqual({ cron: LEDGER_DEFAULTS.compactionCron });
    expect(resolveLedgerOptions({ maxEvents: 7 }).highWaterMark).toBe(14);
  });

  it('enableWAL is a deprecated alias of autoFlush; the two must not disagree', () => {
    expect(resolveLedgerOptions({ enableWAL: false }).autoFlush).toBe(false);
    expect(resolveLedgerOptions({ autoFlush: false, enableWAL: false }).autoFlush).toBe(false);
    expect('enableWAL' in resolveLedgerOptions({ enableWAL: false })).toBe(false);
    expect(() => resolveLedgerOptions({ autoFlush: true, enableWAL: false })).toThrow(expect.objectContaining({ option: 'enableWAL' }));
  });

  it('keys only the caller understands are accepted only for that caller', () => {
    expect(() => resolveLedgerOptions({ compaction: false } as never)).toThrow(LedgerConfigError);
    expect(resolveModuleOptions({ compaction: false }).compaction).toBe(false);
    expect(() => resolveLedgerOptions({ compactIntervalMs: 5 } as never, ['compactIntervalMs'])).not.toThrow();
  });

  it('undefined is unset for every option (what a config lookup gives for a missing key), except compaction.intervalMs', () => {
    const unset = { storagePath: undefined, maxEvents: undefined, autoFlush: undefined, lockStaleMs: undefined, storage: undefined };
    expect(resolveLedgerOptions(unset)).toEqual(resolveLedgerOptions({}));
    expect(() => resolveModuleOptions({ compaction: { intervalMs: undefined as unknown as number } })).toThrow(
      expect.objectContaining({ option: 'compaction.intervalMs' }),
    );
  });
});
