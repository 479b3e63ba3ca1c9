/** The checks option validation is made of (types, ranges, unknown keys), shared by the resolver and the drivers' own option checks. */
import { LedgerConfigError } from '../errors/ledger-config.error';
import { closestName } from '../util/closest-name';

/** Longest delay a Node.js timer takes; a longer one fires after 1 ms instead. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** A value as an error message shows it: its type, and the value where that helps (`string "5000"`). */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value)}`;
  if (typeof value === 'number') return `number ${String(value)}`;
  if (typeof value === 'object') return 'an object';
  return typeof value;
}

/** Refuses keys of `value` that are not in `known`, naming the closest known key. */
export function refuseUnknownKeys(prefix: string, value: object, known: readonly string[]): void {
  for (const key of Object.keys(value)) {
    if (known.includes(key)) continue;
    const closest = closestName(key, known);
    const hint = closest === undefined ? '' : `; did you mean "${prefix}${closest}"?`;
    throw new LedgerConfigError(`${prefix}${key}`, `is not a nestjs-ledger option${hint} (known: ${known.join(', ')})`);
  }
}

/** Checks an integer option; `undefined` gives `fallback`. */
export function positiveInteger(option: string, value: unknown, fallback: number, allowZero = false): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < (allowZero ? 0 : 1)) {
    throw new LedgerConfigError(option, `must be ${allowZero ? 'a non-negative' : 'a positive'} integer (got ${describeValue(value)})`);
  }
  return value;
}
