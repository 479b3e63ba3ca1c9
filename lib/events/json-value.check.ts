/** JSON values checked or copied so that they survive a JSON round trip unchanged, and the paths and values error messages show. */
import { LedgerValidationError } from '../errors/ledger-validation.error';

/** A JSON object as the checks see it. */
export type JsonObject = Record<string, unknown>;

const MAX_DEPTH = 64;
/** The path reported for a problem with the event object itself. */
const ROOT = 'event';

/** Longest part of a wrong string value an error message quotes. */
const QUOTED_CHARS = 40;

/** A wrong value as an error message shows it: a string quoted as JSON (cut short when long), a number as written, else its type. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') {
    return value.length > QUOTED_CHARS
      ? `${JSON.stringify(`${value.slice(0, QUOTED_CHARS)}...`)} (${value.length} characters)`
      : JSON.stringify(value);
  }
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isNaN(value) ? 'NaN' : String(value);
  if (typeof value === 'object') {
    const proto = Object.getPrototypeOf(value);
    return proto && proto.constructor && proto.constructor !== Object ? `${proto.constructor.name} instance` : 'object';
  }
  return typeof value;
}

/** JSON has no -0 (it is written as 0): store 0, so that memory and disk hold the same event. */
export function jsonNumber(value: number): number {
  return value === 0 ? 0 : value;
}

/** Where a value sits in the event; turned into a string only when an error names it. */
export interface PathNode {
  parent: PathNode | null;
  key: string | number;
}

export function pathOf(node: PathNode | null): string {
  let path = '';
  for (let at = node; at !== null; at = at.parent) {
    const rest = path === '' || path.startsWith('[') ? path : `.${path}`;
    path = typeof at.key === 'number' ? `[${at.key}]${rest}` : `${at.key}${rest}`;
  }
  return path === '' ? ROOT : path;
}

/**
 * Deep-copies a JSON value (or, with `copying` false, checks it in place,
 * writing back only normalised numbers), rejecting anything that would not survive a
 * JSON round trip unchanged: BigInt, functions, symbol values, non-finite numbers,
 * cycles, class instances, `__proto__` keys, lone surrogates, over-long strings.
 * Symbol-keyed properties are not JSON data: like JSON.stringify, the copy leaves them out.
 * `ancestors` holds the objects on the current path (to detect cycles).
 */
export function cloneJson(value: unknown, at: PathNode | null, ancestors: object[], maxStringLength: number, copying = true): unknown {
  switch (typeof value) {
    case 'string':
      if (value.length > maxStringLength) {
        throw new LedgerValidationError(pathOf(at), `is ${value.length} characters long, above the per-event limit of ${maxStringLength} bytes`);
      }
      if (!value.isWellFormed()) throw new LedgerValidationError(pathOf(at), 'contains a lone UTF-16 surrogate (not valid Unicode)');
      return value;
    case 'number':
      if (!Number.isFinite(value)) throw new LedgerValidationError(pathOf(at), `must be a finite number (got ${describe(value)})`);
      return jsonNumber(value);
    case 'boolean':
      return value;
    case 'object':
      break;
    default:
      throw new LedgerValidationError(pathOf(at), `is not JSON-serialisable (got ${typeof value})`);
  }
  if (value === null) return null;
  if (ancestors.length > MAX_DEPTH) throw new LedgerValidationError(pathOf(at), `nests deeper than ${MAX_DEPTH} levels`);
  if (ancestors.includes(value)) throw new LedgerValidationError(pathOf(at), 'is a circular reference');
  ancestors.push(value);
  let out: unknown;
  if (Array.isArray(value)) {
    const copy = copying ? new Array<unknown>(value.length) : value;
    for (let i = 0; i < value.length; i++) {
      const item = value[i];
      if (item === undefined) throw new LedgerValidationError(pathOf({ parent: at, key: i }), 'is undefined (not JSON-serialisable)');
      copy[i] =
        typeof item === 'string'
          ? checkedString(item, at, i, maxStringLength)
          : cloneJson(item, { parent: at, key: i }, ancestors, maxStringLength, copying);
    }
    out = copy;
  } else {
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) {
      throw new LedgerValidationError(pathOf(at), `must be a plain object (got ${describe(value)})`);
    }
    const copy: JsonObject = copying ? {} : (value as JsonObject);
    for (const key in value) {
      if (!Object.prototype.hasOwnProperty.call(value, key)) continue;
      if (key === '__proto__') throw new LedgerValidationError(pathOf({ parent: at, key }), 'is a forbidden key');
      const child = (value as JsonObject)[key];
      if (child === undefined) continue;
      copy[key] =
        typeof child === 'string'
          ? checkedString(child, at, key, maxStringLength)
          : cloneJson(child, { parent: at, key }, ancestors, maxStringLength, copying);
    }
    out = copy;
  }
  ancestors.pop();
  return out;
}

/** The string fast path of cloneJson: no path node unless there is an error. */
function checkedString(value: string, parent: PathNode | null, key: string | number, maxStringLength: number): string {
  if (value.length > maxStringLength || !value.isWellFormed()) return cloneJson(value, { parent, key }, [], maxStringLength) as string;
  return value;
}

/** Own enumerable keys; for-in over an object of a stable shape is cheap (Object.keys would allocate). */
export function ownKeyCount(obj: object): number {
  let count = 0;
  for (const key in obj) if (Object.prototype.hasOwnProperty.call(obj, key)) count++;
  return count;
}
