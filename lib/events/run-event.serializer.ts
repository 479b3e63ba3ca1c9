import { LedgerValidationError } from '../errors/ledger-validation.error';
import { RUN_EVENT_FIELDS, RunEvent } from './run-event.schema';
import { ownKeyCount } from './json-value.check';

/**
 * Serialises a run event to one NDJSON line (without the newline).
 *
 * Events of the standard shape (what the ledger's validator produces) are
 * written field by field, which on Node 20 is several times cheaper than
 * `JSON.stringify`; anything else goes through `JSON.stringify`. Both give
 * the same JSON value.
 *
 * @throws LedgerValidationError when the line is larger than `maxEventBytes`.
 */
export function serializeRunEvent(event: RunEvent, maxEventBytes: number): string {
  const line = (hasStandardShape(event) ? standardLine(event) : undefined) ?? JSON.stringify(event);
  // A string's UTF-8 size is at most 3 bytes per UTF-16 unit, so most lines need no exact count.
  if (line.length * 3 > maxEventBytes) {
    const bytes = Buffer.byteLength(line, 'utf8');
    if (bytes > maxEventBytes) {
      throw new LedgerValidationError('event', `serialises to ${bytes} bytes, above the per-event limit of ${maxEventBytes} bytes (maxEventBytes)`);
    }
  }
  return line;
}

/** The fields `standardLine` writes whatever the event: all but the optional ones. */
const ALWAYS_WRITTEN = 14;

/**
 * Whether `standardLine` writes what `JSON.stringify` would: every field of `RUN_EVENT_SCHEMA` of
 * its kind (optional ones may be missing), nested standard objects without fields of their own.
 */
function hasStandardShape(event: RunEvent): boolean {
  if (typeof event !== 'object' || event === null) return false;
  const e = event as unknown as Record<string, unknown>;
  return (
    isString(e.eventId) &&
    isString(e.taskId) &&
    isString(e.guidanceHash) &&
    isStringList(e.retrievedRuleIds) &&
    isStringList(e.toolsUsed) &&
    isStringList(e.filesTouched) &&
    isDiffSummary(e.diffSummary) &&
    isTestResults(e.testResults) &&
    isViolationList(e.violations) &&
    (e.outcomeAccepted === null || isBoolean(e.outcomeAccepted)) &&
    isNumber(e.reworkLines) &&
    isString(e.intent) &&
    isNumber(e.timestamp) &&
    isNumber(e.durationMs) &&
    (e.sessionId === undefined || isString(e.sessionId)) &&
    (e.clarifyingQuestions === undefined || isNumber(e.clarifyingQuestions)) &&
    (e.dependenciesAdded === undefined || isStringList(e.dependenciesAdded))
  );
}

/**
 * The line of an event of the standard shape: its standard fields in schema order, then any
 * others; undefined when an extra key is index-like (those come first in an object's key order).
 */
function standardLine(e: RunEvent): string | undefined {
  let json =
    '{"eventId":' +
    quoteUncached(e.eventId) +
    ',"taskId":' +
    quote(e.taskId) +
    ',"guidanceHash":' +
    quote(e.guidanceHash) +
    ',"retrievedRuleIds":' +
    LAST_LISTS.retrievedRuleIds.json(e.retrievedRuleIds) +
    ',"toolsUsed":' +
    LAST_LISTS.toolsUsed.json(e.toolsUsed) +
    ',"filesTouched":' +
    LAST_LISTS.filesTouched.json(e.filesTouched) +
    ',"diffSummary":' +
    diffSummary(e.diffSummary) +
    ',"testResults":' +
    testResults(e.testResults) +
    ',"violations":' +
    violations(e.violations) +
    ',"outcomeAccepted":' +
    (e.outcomeAccepted === null ? 'null' : String(e.outcomeAccepted)) +
    ',"reworkLines":' +
    num(e.reworkLines) +
    ',"intent":' +
    quote(e.intent) +
    ',"timestamp":' +
    num(e.timestamp) +
    ',"durationMs":' +
    num(e.durationMs);
  let written = ALWAYS_WRITTEN;
  if (e.sessionId !== undefined) {
    json += ',"sessionId":' + quote(e.sessionId);
    written++;
  }
  if (e.clarifyingQuestions !== undefined) {
    json += ',"clarifyingQuestions":' + num(e.clarifyingQuestions);
    written++;
  }
  if (e.dependenciesAdded !== undefined) {
    json += ',"dependenciesAdded":' + LAST_LISTS.dependenciesAdded.json(e.dependenciesAdded);
    written++;
  }
  if (ownKeyCount(e) === written) return json + '}';
  const extras = extraFields(e);
  return extras === undefined ? undefined : json + extras + '}';
}

const STANDARD_KEYS = new Set<string>(RUN_EVENT_FIELDS);
const ARRAY_INDEX = /^(?:0|[1-9][0-9]{0,9})$/;

/** The fields other than the standard ones, each as `,"key":value`; undefined if a key is index-like. */
function extraFields(e: RunEvent): string | undefined {
  let json = '';
  for (const key in e) {
    if (STANDARD_KEYS.has(key) || !Object.prototype.hasOwnProperty.call(e, key)) continue;
    if (ARRAY_INDEX.test(key)) return undefined;
    const value = JSON.stringify((e as unknown as Record<string, unknown>)[key]);
    if (value !== undefined) json += ',' + quote(key) + ':' + value;
  }
  return json;
}

function isString(value: unknown): value is string {
  return typeof value === 'string';
}

function isBoolean(value: unknown): value is boolean {
  return typeof value === 'boolean';
}

/** A finite number: for those, String() and JSON.stringify agree (both write -0 as 0). */
function isNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

function isStringList(value: unknown): boolean {
  if (!Array.isArray(value)) return false;
  for (let i = 0; i < value.length; i++) if (typeof value[i] !== 'string') return false;
  return true;
}

/** An object (not a list) with exactly `keys` own fields. */
function hasKeys(value: unknown, keys: number): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && ownKeyCount(value) === keys;
}

function isDiffSummary(d: unknown): boolean {
  return hasKeys(d, 3) && isNumber(d.linesAdded) && isNumber(d.linesRemoved) && isNumber(d.filesChanged);
}

function isTestResults(t: unknown): boolean {
  return hasKeys(t, 4) && isBoolean(t.ran) && isNumber(t.passed) && isNumber(t.failed) && isNumber(t.skipped);
}

function isViolationList(value: unknown): boolean {
  if (!Array.isArray(value)) return false;
  for (let i = 0; i < value.length; i++) {
    const v = value[i] as Record<string, unknown> | null | undefined;
    const hasLocation = v?.location !== undefined;
    if (!hasKeys(v, hasLocation ? 5 : 4)) return false;
    if (!isString(v.ruleId) || !isString(v.description) || !isString(v.severity) || !isBoolean(v.autoCorrected)) return false;
    if (hasLocation && !isString(v.location)) return false;
  }
  return true;
}

function diffSummary(d: RunEvent['diffSummary']): string {
  return '{"linesAdded":' + num(d.linesAdded) + ',"linesRemoved":' + num(d.linesRemoved) + ',"filesChanged":' + num(d.filesChanged) + '}';
}

function testResults(t: RunEvent['testResults']): string {
  return '{"ran":' + String(t.ran) + ',"passed":' + num(t.passed) + ',"failed":' + num(t.failed) + ',"skipped":' + num(t.skipped) + '}';
}

function violations(list: RunEvent['violations']): string {
  if (list.length === 0) return '[]';
  let json = '[';
  for (let i = 0; i < list.length; i++) {
    const v = list[i];
    json +=
      (i === 0 ? '{"ruleId":' : ',{"ruleId":') +
      quote(v.ruleId) +
      ',"description":' +
      quote(v.description) +
      ',"severity":' +
      quote(v.severity) +
      ',"autoCorrected":' +
      String(v.autoCorrected) +
      (v.location !== undefined ? ',"location":' + quote(v.location) + '}' : '}');
  }
  return json + ']';
}

function stringList(list: readonly string[]): string {
  if (list.length === 0) return '[]';
  let json = '[' + quote(list[0]);
  for (let i = 1; i < list.length; i++) json += ',' + quote(list[i]);
  return json + ']';
}

/** A finite number as JSON writes it. */
function num(value: number): string {
  // Millisecond timestamps are heap numbers, which String() converts several times slower than small integers.
  if (value >= 1e8 && value <= Number.MAX_SAFE_INTEGER && Number.isInteger(value)) {
    const high = Math.floor(value / 1e8);
    const low = String(value - high * 1e8);
    return String(high) + ZEROS[8 - low.length] + low;
  }
  return String(value);
}

const ZEROS = ['', '0', '00', '000', '0000', '00000', '000000', '0000000'];

/** Characters JSON.stringify escapes (or may: surrogates are escaped when unpaired). */
// eslint-disable-next-line no-control-regex -- these are exactly the characters JSON escapes
const NEEDS_ESCAPE = /[\u0000-\u001f"\\\ud800-\udfff]/;

/**
 * Quoted JSON forms of recently seen strings. Most values repeat from event to event (rule ids,
 * tools, file paths, hashes, task ids) and quoting is the costliest step of serialising: without
 * this cache serialisation takes twice as long (bench/validate-serialize.js). It is cleared when
 * full, so it follows whatever the current values are and its memory stays bounded.
 */
const quoted = new Map<string, string>();
const QUOTE_CACHE_ENTRIES = 4096;
const QUOTE_CACHE_MAX_LENGTH = 256;

function quote(value: string): string {
  let json = quoted.get(value);
  if (json !== undefined) return json;
  json = quoteUncached(value);
  if (value.length <= QUOTE_CACHE_MAX_LENGTH) {
    if (quoted.size >= QUOTE_CACHE_ENTRIES) quoted.clear();
    quoted.set(value, json);
  }
  return json;
}

/** For values that never repeat (event ids), which would only push others out of the cache. */
function quoteUncached(value: string): string {
  return NEEDS_ESCAPE.test(value) ? JSON.stringify(value) : '"' + value + '"';
}

/**
 * The JSON of the last list seen in one field. Lists such as the tools used or the rules
 * retrieved often repeat from one event to the next; reusing their JSON saves building it again.
 */
class LastStringList {
  private items: readonly string[] = [];
  private text = '[]';

  json(list: readonly string[]): string {
    if (!this.matches(list)) {
      this.text = stringList(list);
      this.items = list.slice();
    }
    return this.text;
  }

  private matches(list: readonly string[]): boolean {
    if (list.length !== this.items.length) return false;
    for (let i = 0; i < list.length; i++) if (list[i] !== this.items[i]) return false;
    return true;
  }
}

const LAST_LISTS = {
  retrievedRuleIds: new LastStringList(),
  toolsUsed: new LastStringList(),
  filesTouched: new LastStringList(),
  dependenciesAdded: new LastStringList(),
};
