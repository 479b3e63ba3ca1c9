/**
 * Every error the library throws is a LedgerError, so the exception filter and
 * users can catch the family; each error class has its file in lib/errors/.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as library from '../../lib';
import { LedgerError, LedgerLogReplacedError, LedgerStorageTimeoutError } from '../../lib';
import { readLibSources } from '../helpers/import-layers';

const exportedErrorClasses = Object.entries(library).filter(
  ([, value]) => typeof value === 'function' && (value as { prototype?: unknown }).prototype instanceof Error,
) as [string, abstract new (...args: never[]) => Error][];

describe('LedgerError', () => {
  it('every error class the package exports extends it', () => {
    expect(exportedErrorClasses.map(([name]) => name)).toEqual(
      expect.arrayContaining([
        'LedgerValidationError',
        'LedgerLockedError',
        'LedgerLockLostError',
        'LedgerConfigError',
        'LedgerClosedError',
        'LedgerEventRefusedError',
        'LedgerWriteError',
        'LedgerStorageUnavailableError',
        'NoNdjsonStoreError',
        'LedgerStorageTimeoutError',
        'LedgerLogReplacedError',
      ]),
    );
    const notLedgerErrors = exportedErrorClasses
      .filter(([, value]) => value !== LedgerError && !(value.prototype instanceof LedgerError))
      .map(([name]) => name);
    expect(notLedgerErrors).toEqual([]);
  });

  it('every error class of lib/ is declared in lib/errors/ and extends LedgerError (the CLI exit signal aside)', () => {
    const misplaced: string[] = [];
    for (const [file, source] of readLibSources(join(__dirname, '..', '..', 'lib'))) {
      for (const [, name, base] of source.matchAll(/class (\w+) extends (\w*Error)\b/g)) {
        if (file === 'cli/cli-exit.ts' && name === 'CliExit') continue; // ends a CLI command with a status; never leaves the process
        if (!file.startsWith('errors/') || (base !== 'LedgerError' && name !== 'LedgerError')) misplaced.push(`${file}: ${name} extends ${base}`);
      }
    }
    expect(misplaced).toEqual([]);
    expect(readFileSync(join(__dirname, '..', '..', 'lib', 'errors', 'ledger.error.ts'), 'utf8')).toMatch(
      /export abstract class LedgerError extends Error/,
    );
  });

  it('the typed errors that replaced bare ones keep their messages', () => {
    expect(new LedgerStorageTimeoutError(3000)).toMatchObject({
      name: 'LedgerStorageTimeoutError',
      timeoutMs: 3000,
      message: 'no answer within 3000 ms',
    });
    expect(new LedgerLogReplacedError('/data/events.ndjson')).toMatchObject({
      name: 'LedgerLogReplacedError',
      path: '/data/events.ndjson',
      message: '/data/events.ndjson was removed or replaced again while the store wrote to it',
    });
    expect(new LedgerStorageTimeoutError(1)).toBeInstanceOf(LedgerError);
  });
});
