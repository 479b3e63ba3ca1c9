import { LedgerValidationError } from '../errors/ledger-validation.error';
import { RUN_EVENT_FIELDS, RunEvent } from './run-event.interface';
import { RUN_EVENT_SCHEMA, RunEventFieldSpec } from './run-event.schema';
import { ownKeyCount } from './run-event.validator';

/**
 * Serialises a run event to one NDJSON line (without the newline).
 *
 * Events of the standard shape (what the ledger's validator produces) are
 * written field by field, which on Node 20 is about three times cheaper than
 * `JSON.stringify`; anything else goes through `JSON.stringify`. Both give
 * the same JSON value.
 *
 * @throws LedgerValidationError when the line is larger than `maxEventBytes`.
 */
export function serializeRunEvent(event: RunEvent, maxEventBytes: number): string {
  let line: string;
  try {
    line = standardEventJson(event);
  } catch (err) {
    if (err !== NOT_STANDARD) throw err;
    line = JSON.stringify(event);
  }
  // A string's UTF-8 size is at most 3 bytes per UTF-16 unit, so most lines need no exact count.
  if (line.length * 3 > maxEventBytes) {
    const bytes = Buffer.byteLength(line, 'utf8');
    if (bytes > maxEventBytes) {
      throw new LedgerValidationError('event', `serialises to ${bytes} bytes, above the per-event limit of ${maxEventBytes} bytes (maxEventBytes)`);
    }
  }
  return line;
}

/** Thrown (and caught above) when a value is not where the standard shape has it. */
const NOT_STANDARD = Symbol('not the standard event shape');

function notStandard(): never {
  throw NOT_STANDARD;
}

const STANDARD_KEYS = new Set<string>(RUN_EVENT_FIELDS);
const ARRAY_INDEX = /^(?:0|[1-9][0-9]{0,9})$/;

/** The fields other than the standard ones, each as `,"key":value`. */
function extraFields(e: RunEvent): string {
  let json = '';
  for (const key in e) {
    if (STANDARD_KEYS.has(key) || !Object.prototype.hasOwnProperty.call(e, key)) continue;
    // Index-like keys come first in an object's key order: leave such an event to JSON.stringify.
    if (ARRAY_INDEX.test(key)) notStandard();
    const value = JSON.stringify((e as unknown as Record<string, unknown>)[key]);
    if (value !== undefined) json += ',' + quote(key) + ':' + value;
  }
  return json;
}

/** A nested object with exactly `keys` fields; one with extra fields is left to JSON.stringify (with the whole event). */
function plain(value: unknown, keys: number): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || ownKeyCount(value) !== keys) notStandard();
  return value as Record<string, unknown>;
}

function diffSummary(value: unknown): string {
  const d = plain(value, 3);
  return '{"linesAdded":' + num(d.linesAdded) + ',"linesRemoved":' + num(d.linesRemoved) + ',"filesChanged":' + num(d.filesChanged) + '}';
}

function testResults(value: unknown): string {
  const t = plain(value, 4);
  return '{"ran":' + bool(t.ran) + ',"passed":' + num(t.passed) + ',"failed":' + num(t.failed) + ',"skipped":' + num(t.skipped) + '}';
}

function violations(value: unknown): string {
  if (!Array.isArray(value)) notStandard();
  if (value.length === 0) return '[]';
  let json = '[';
  for (let i = 0; i < value.length; i++) {
    const v = value[i] as Record<string, unknown> | undefined;
    const hasLocation = v?.location !== undefined;
    plain(v, hasLocation ? 5 : 4);
    json +=
      (i === 0 ? '{"ruleId":' : ',{"ruleId":') +
      quote(v!.ruleId) +
      ',"description":' +
      quote(v!.description) +
      ',"severity":' +
      quote(v!.severity) +
      ',"autoCorrected":' +
      bool(v!.autoCorrected) +
      (hasLocation ? ',"location":' + quote(v!.location) + '}' : '}');
  }
  return json + ']';
}

function stringList(value: unknown): string {
  if (!Array.isArray(value)) notStandard();
  if (value.length === 0) return '[]';
  let json = '[' + quote(value[0]);
  for (let i = 1; i < value.length; i++) json += ',' + quote(value[i]);
  return json + ']';
}

/**
 * The JSON of the last list seen in one field. Lists such as the tools used or
 * the rules retrieved often repeat from one event to the next; reusing their
 * JSON saves building it again (and the garbage collector its pieces).
 */
class LastStringList {
  private items: unknown[] = [];
  private text = '[]';

  json(value: unknown): string {
    if (!Array.isArray(value)) notStandard();
    if (!this.matches(value)) {
      this.text = contiguous(stringList(value));
      this.items = value.slice();
    }
    return this.text;
  }

  private matches(value: unknown[]): boolean {
    if (value.length !== this.items.length) return false;
    for (let i = 0; i < value.length; i++) if (value[i] !== this.items[i]) return false;
    return true;
  }
}

function num(value: unknown): string {
  // For finite numbers, String() and JSON.stringify agree (both write -0 as 0).
  if (typeof value !== 'number' || !Number.isFinite(value)) notStandard();
  // Millisecond timestamps are heap numbers, which String() converts several times slower than small integers.
  if (value >= 1e8 && value <= Number.MAX_SAFE_INTEGER && Number.isInteger(value)) {
    const high = Math.floor(value / 1e8);
    const low = String(value - high * 1e8);
    return String(high) + ZEROS[8 - low.length] + low;
  }
  return String(value);
}

const ZEROS = ['', '0', '00', '000', '0000', '00000', '000000', '0000000'];

function bool(value: unknown): string {
  return value === true ? 'true' : value === false ? 'false' : notStandard();
}

/**
 * Quoted JSON forms of recently seen strings. Most values repeat from event to
 * event (rule ids, tools, file paths, hashes, task ids), and quoting is the
 * costliest step of serialising; the cache is cleared when full, so it follows
 * whatever the current values are and its memory stays bounded.
 */
const quoted = new Map<string, string>();
const QUOTE_CACHE_ENTRIES = 4096;
const QUOTE_CACHE_MAX_LENGTH = 256;
/** Characters JSON.stringify escapes (or may: surrogates are escaped when unpaired). */
// eslint-disable-next-line no-control-regex -- these are exactly the characters JSON escapes
const NEEDS_ESCAPE = /[\u0000-\u001f"\\\ud800-\udfff]/;

function quote(value: unknown): string {
  if (typeof value !== 'string') notStandard();
  let json = quoted.get(value);
  if (json !== undefined) return json;
  json = contiguous(quoteUncached(value));
  if (value.length <= QUOTE_CACHE_MAX_LENGTH) {
    if (quoted.size >= QUOTE_CACHE_ENTRIES) quoted.clear();
    quoted.set(value, json);
  }
  return json;
}

/** For values that never repeat (event ids), which would only push others out of the cache. */
function quoteUncached(value: unknown): string {
  if (typeof value !== 'string') notStandard();
  return NEEDS_ESCAPE.test(value) ? JSON.stringify(value) : '"' + value + '"';
}

/**
 * `text`, stored in one piece. A string built with `+` is a tree of pieces that
 * every copy of it walks again; cached strings are copied into every line, so
 * they are made contiguous once (V8 does that when a character is read).
 */
function contiguous(text: string): string {
  text.charCodeAt(0);
  return text;
}

/** The schema's fields, in order, each with its `"name":` prefix and (for lists) the memory of its last list. */
const FIELDS = Object.entries(RUN_EVENT_SCHEMA).map(([name, spec]: [string, RunEventFieldSpec], i) => ({
  name,
  kind: spec.kind,
  optional: spec.presence === 'optional',
  // Assigned ids never repeat: caching their quoted form would only push other strings out of the cache.
  uncached: spec.presence === 'assigned',
  prefix: (i === 0 ? '{' : ',') + JSON.stringify(name) + ':',
  lastList: spec.kind === 'stringList' ? new LastStringList() : null,
}));
type Field = (typeof FIELDS)[number];

/** Writes the standard fields in schema order, then any others. The fallback of {@link compileSerialization}, with the same result. */
function interpretedSerialization(e: RunEvent): string {
  if (typeof e !== 'object' || e === null || FIELDS[0].optional) notStandard();
  let json = '';
  let keys = 0;
  for (let i = 0; i < FIELDS.length; i++) {
    const field = FIELDS[i];
    const value = (e as unknown as Record<string, unknown>)[field.name];
    if (value === undefined) {
      if (field.optional) continue;
      notStandard();
    }
    json += field.prefix + fieldJson(field, value);
    keys++;
  }
  if (ownKeyCount(e) !== keys) json += extraFields(e);
  return json + '}';
}

/** The JSON of a standard field's value, by its kind. */
function fieldJson(field: Field, value: unknown): string {
  switch (field.kind) {
    case 'id':
    case 'string':
    case 'intent':
      return field.uncached ? quoteUncached(value) : quote(value);
    case 'stringList':
      return field.lastList!.json(value);
    case 'count':
    case 'finite':
    case 'epochMs':
      return num(value);
    case 'diffSummary':
      return diffSummary(value);
    case 'testResults':
      return testResults(value);
    case 'violations':
      return violations(value);
    case 'outcome':
      return value === null ? 'null' : bool(value);
  }
}

/**
 * The same serialisation as {@link interpretedSerialization}, compiled from the
 * schema into one function that reads each field by name and concatenates its
 * JSON: half again as fast as the loop. Null where the runtime forbids code
 * generation (`--disallow-code-generation-from-strings`).
 */
function compileSerialization(): ((e: RunEvent) => string) | null {
  let required = 0;
  const always: string[] = [];
  const optional: string[] = [];
  FIELDS.forEach((field, i) => {
    const value = `e[${JSON.stringify(field.name)}]`;
    const part = `${JSON.stringify(field.prefix)} + ${writerSource(field, i, value)}`;
    if (field.optional) {
      optional.push(`if (${value} !== undefined) { json += ${part}; keys++; }`);
    } else {
      always.push(part);
      required++;
    }
  });
  if (FIELDS[0].optional) return null;
  const body = `if (typeof e !== 'object' || e === null) notStandard();
let keys = ${required};
let json = ${always.join(' + ')};
${optional.join('\n')}
if (ownKeyCount(e) !== keys) json += extraFields(e);
return json + '}';`;
  try {
    const make = new Function(...Object.keys(WRITERS), 'F', `return function runEventJson(e) {\n${body}\n};`);
    return make(...Object.values(WRITERS), FIELDS) as (e: RunEvent) => string;
  } catch {
    return null;
  }
}

/** What the compiled serialiser calls, by the names it calls them. */
const WRITERS = { quote, quoteUncached, num, bool, diffSummary, testResults, violations, notStandard, ownKeyCount, extraFields };

/** The JS expression that writes the JSON of field `i` (the compiled twin of {@link fieldJson}). */
function writerSource(field: Field, i: number, value: string): string {
  switch (field.kind) {
    case 'id':
    case 'string':
    case 'intent':
      return `${field.uncached ? 'quoteUncached' : 'quote'}(${value})`;
    case 'stringList':
      return `F[${i}].lastList.json(${value})`;
    case 'count':
    case 'finite':
    case 'epochMs':
      return `num(${value})`;
    case 'diffSummary':
    case 'testResults':
    case 'violations':
      return `${field.kind}(${value})`;
    case 'outcome':
      return `(${value} === null ? 'null' : bool(${value}))`;
  }
}

const standardEventJson = compileSerialization() ?? interpretedSerialization;

/** The serialisation of an event of the standard shape through the field-by-field loop (it must agree with the compiled one; the tests check it). */
export function serializeRunEventInterpreted(event: RunEvent): string {
  try {
    return interpretedSerialization(event);
  } catch (err) {
    if (err !== NOT_STANDARD) throw err;
    return JSON.stringify(event);
  }
}

/** Whether serialisation runs compiled from the schema (false where code generation is forbidden). */
export const SERIALIZATION_IS_COMPILED = standardEventJson !== interpretedSerialization;
