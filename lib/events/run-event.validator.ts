import { newEventId } from './event-id';
import { closestName } from '../util/closest-name';
import { LedgerValidationError } from '../errors/ledger-validation.error';
import { JsonObject, PathNode, cloneJson, describe, jsonNumber, ownKeyCount, pathOf } from './json-value.check';

import { RISK_CLASSES, RiskClass, TASK_INTENTS, TaskIntent, Violation } from './run-event.values';
import { RUN_EVENT_FIELDS, RUN_EVENT_SCHEMA, RunEvent } from './run-event.schema';

/**
 * Largest `taskId` and `eventId`, in UTF-8 bytes. Both are indexed columns on
 * PostgreSQL, whose index entries cannot exceed about 2.7 KB; both stores
 * refuse the same ids, so an event accepted by one is accepted by the other.
 */
export const MAX_ID_BYTES = 1024;

/**
 * The largest timestamp magnitude, in epoch milliseconds: what a JavaScript `Date` can hold
 * (ECMAScript's time value range, years -271821 to 275760). Beyond it no date can be shown.
 */
export const MAX_TIMESTAMP_MS = 8.64e15;

/**
 * What the ledger does with a top-level field its schema does not have: `'refuse-typos'` refuses
 * one named like a standard field (`toolUsed`, `sessionID`: a likely typo) and keeps the others,
 * `'refuse'` refuses every one, `'keep'` stores every one as an extra JSON field.
 */
export type UnknownFieldsPolicy = 'refuse-typos' | 'refuse' | 'keep';

function defined(value: unknown): number {
  return value === undefined ? 0 : 1;
}

/** `path[index].field`, leaving out an index of -1 and an empty field. */
function fieldPath(path: string, index: number, field: string): string {
  const indexed = index >= 0 ? `${path}[${index}]` : path;
  return field ? `${indexed}.${field}` : indexed;
}

/** Finer units a timestamp beyond a Date may be in, and how many of each make a millisecond. */
const FINER_UNITS = [
  { unit: 'microseconds', perMs: 1e3, written: '1e3' },
  { unit: 'nanoseconds', perMs: 1e6, written: '1e6' },
];

/** `: nanoseconds? Divide by 1e6` when a timestamp out of range is a plausible date (years 1973 to 5138) in a finer unit. */
function likelyUnit(ms: number): string {
  for (const { unit, perMs, written } of FINER_UNITS) {
    const scaled = ms / perMs;
    if (scaled >= 1e11 && scaled < 1e14) return `: ${unit}? Divide by ${written}`;
  }
  return '';
}

/** Throws for an extra top-level field as `policy` says (never called for `'keep'`). */
function refuseUnknownField(key: string, policy: UnknownFieldsPolicy): void {
  const meant = closestName(key, RUN_EVENT_FIELDS);
  if (meant === undefined && policy === 'refuse-typos') return;
  const hint = meant === undefined ? '' : `: did you mean "${meant}"?`;
  throw new LedgerValidationError(
    key,
    `is not a run-event field${hint} (${policy === 'refuse' ? "unknownFields: 'refuse'" : "named like a standard field, it is refused as a likely typo; unknownFields: 'keep' stores it"})`,
  );
}

const DIFF_SUMMARY_AT: PathNode = { parent: null, key: 'diffSummary' };
const TEST_RESULTS_AT: PathNode = { parent: null, key: 'testResults' };
const VIOLATIONS_AT: PathNode = { parent: null, key: 'violations' };

const STANDARD_FIELDS = new Set<string>(RUN_EVENT_FIELDS);
const EXPECTED_TIMESTAMP = RUN_EVENT_SCHEMA.timestamp.expected;

/**
 * A new, unvalidated event with the given fields and every other field's
 * default (a fresh `eventId`; optional fields left out): what `createEvent` returns.
 * Its defaults are those of {@link EventSanitizer.event} (a test holds them equal).
 */
export function newRunEvent(fields: Pick<RunEvent, 'taskId' | 'timestamp'> & Partial<RunEvent>): RunEvent {
  const f = fields;
  const event: RunEvent = {
    eventId: f.eventId === undefined ? newEventId() : f.eventId,
    taskId: f.taskId,
    guidanceHash: f.guidanceHash === undefined ? '' : f.guidanceHash,
    retrievedRuleIds: f.retrievedRuleIds === undefined ? [] : f.retrievedRuleIds,
    toolsUsed: f.toolsUsed === undefined ? [] : f.toolsUsed,
    filesTouched: f.filesTouched === undefined ? [] : f.filesTouched,
    diffSummary: f.diffSummary === undefined ? { linesAdded: 0, linesRemoved: 0, filesChanged: 0 } : f.diffSummary,
    testResults: f.testResults === undefined ? { ran: false, passed: 0, failed: 0, skipped: 0 } : f.testResults,
    violations: f.violations === undefined ? [] : f.violations,
    outcomeAccepted: f.outcomeAccepted === undefined ? null : f.outcomeAccepted,
    reworkLines: f.reworkLines === undefined ? 0 : f.reworkLines,
    intent: f.intent === undefined ? 'general' : f.intent,
    timestamp: f.timestamp,
    durationMs: f.durationMs === undefined ? 0 : f.durationMs,
  };
  if (f.sessionId !== undefined) event.sessionId = f.sessionId;
  if (f.clarifyingQuestions !== undefined) event.clarifyingQuestions = f.clarifyingQuestions;
  if (f.dependenciesAdded !== undefined) event.dependenciesAdded = f.dependenciesAdded;
  return event;
}

const DIFF_FIELDS = new Set(['linesAdded', 'linesRemoved', 'filesChanged']);
const TEST_FIELDS = new Set(['ran', 'passed', 'failed', 'skipped']);
const VIOLATION_FIELDS = new Set(['ruleId', 'description', 'severity', 'location', 'autoCorrected']);

/**
 * Validates one event in a single pass and builds its copy with a fixed shape
 * (standard fields first, in one order), which is several times cheaper than
 * a generic deep copy. Other JSON fields are deep-copied as they are.
 */
class EventSanitizer {
  private readonly ancestors: object[] = [];

  /**
   * @param copying false for input the caller owns and gives up (an event just
   *   parsed from storage): nested lists and objects are checked and completed
   *   in place instead of copied. Caller input is always copied.
   * @param unknownFields what to do with a top-level field the schema does not have (stored events keep theirs).
   */
  constructor(
    private readonly maxStringLength: number,
    private readonly copying = true,
    private readonly unknownFields: UnknownFieldsPolicy = 'keep',
  ) {}

  /** `idWhenMissing` gives the id of an event that has none (default: a new UUID). */
  run(input: unknown, freshId: boolean, idWhenMissing: () => string = newEventId): RunEvent {
    const e = this.plainObject(input, null);
    this.ancestors.push(e);
    return this.event(e, freshId, idWhenMissing);
  }

  /**
   * The event: every field of `RUN_EVENT_SCHEMA`, in its order, checked by its kind or given
   * its default (one line each; a test walks the schema to hold them to it), then the others.
   */
  private event(e: JsonObject, freshId: boolean, idWhenMissing: () => string): RunEvent {
    const { eventId, taskId, guidanceHash, retrievedRuleIds, toolsUsed, filesTouched, diffSummary, testResults, violations } = e;
    const { outcomeAccepted, reworkLines, intent, timestamp, durationMs, sessionId, clarifyingQuestions, dependenciesAdded } = e;
    const event: RunEvent = {
      eventId: freshId ? newEventId() : eventId === undefined ? idWhenMissing() : this.idField(eventId, 'eventId'),
      taskId: this.idField(taskId, 'taskId'),
      guidanceHash: guidanceHash === undefined ? '' : this.requiredString(guidanceHash, 'guidanceHash'),
      retrievedRuleIds: retrievedRuleIds === undefined ? [] : this.stringList(retrievedRuleIds, 'retrievedRuleIds'),
      toolsUsed: toolsUsed === undefined ? [] : this.stringList(toolsUsed, 'toolsUsed'),
      filesTouched: filesTouched === undefined ? [] : this.stringList(filesTouched, 'filesTouched'),
      diffSummary: diffSummary === undefined ? { linesAdded: 0, linesRemoved: 0, filesChanged: 0 } : this.diffSummary(diffSummary),
      testResults: testResults === undefined ? { ran: false, passed: 0, failed: 0, skipped: 0 } : this.testResults(testResults),
      violations: violations === undefined ? [] : this.violations(violations),
      outcomeAccepted: outcomeAccepted === undefined ? null : this.outcome(outcomeAccepted),
      reworkLines: reworkLines === undefined ? 0 : this.count(reworkLines, 'reworkLines'),
      intent: intent === undefined ? 'general' : this.intent(intent),
      timestamp: this.epochMs(timestamp, 'timestamp', EXPECTED_TIMESTAMP),
      durationMs: durationMs === undefined ? 0 : this.finite(durationMs, 'durationMs'),
    };
    if (sessionId !== undefined) event.sessionId = this.requiredString(sessionId, 'sessionId');
    if (clarifyingQuestions !== undefined) event.clarifyingQuestions = this.count(clarifyingQuestions, 'clarifyingQuestions');
    if (dependenciesAdded !== undefined) event.dependenciesAdded = this.stringList(dependenciesAdded, 'dependenciesAdded');
    const definedStandard =
      defined(eventId) +
      defined(taskId) +
      defined(guidanceHash) +
      defined(retrievedRuleIds) +
      defined(toolsUsed) +
      defined(filesTouched) +
      defined(diffSummary) +
      defined(testResults) +
      defined(violations) +
      defined(outcomeAccepted) +
      defined(reworkLines) +
      defined(intent) +
      defined(timestamp) +
      defined(durationMs) +
      defined(sessionId) +
      defined(clarifyingQuestions) +
      defined(dependenciesAdded);
    this.copyExtras(e, event as unknown as JsonObject, STANDARD_FIELDS, definedStandard, null);
    return event;
  }

  private idField(value: unknown, path: string): string {
    if (typeof value !== 'string' || value.length === 0) this.fail(path, value, 'must be a non-empty string');
    return this.id(value, path);
  }

  /** The reason a value is not JSON at all, if it is not. */
  private jsonProblem(value: unknown): string | null {
    const type = typeof value;
    if (type === 'bigint' || type === 'function' || type === 'symbol') return `is not JSON-serialisable (got ${type})`;
    if (type === 'number' && !Number.isFinite(value)) return `must be a finite number (got ${describe(value)})`;
    return null;
  }

  private fail(path: string, value: unknown, expected: string): never {
    throw new LedgerValidationError(path, this.jsonProblem(value) ?? `${expected} (got ${describe(value)})`);
  }

  /** `path`, `index` and `field` name the value (`path[index].field`); the name is only built for an error. */
  private string(value: string, path: string, index = -1, field = ''): string {
    if (value.length > this.maxStringLength) {
      throw new LedgerValidationError(
        fieldPath(path, index, field),
        `is ${value.length} characters long, above the per-event limit of ${this.maxStringLength} bytes`,
      );
    }
    if (!value.isWellFormed()) throw new LedgerValidationError(fieldPath(path, index, field), 'contains a lone UTF-16 surrogate (not valid Unicode)');
    return value;
  }

  /**
   * An id (`taskId`, `eventId`): a string without U+0000, which PostgreSQL text
   * cannot hold, and at most {@link MAX_ID_BYTES} bytes of UTF-8.
   */
  private id(value: string, path: string): string {
    this.string(value, path);
    if (value.includes('\u0000'))
      throw new LedgerValidationError(path, 'contains the character U+0000 (NUL), which the PostgreSQL store cannot hold in an id');
    // A UTF-16 unit is at most 3 bytes of UTF-8: only long ids need counting.
    if (value.length * 3 > MAX_ID_BYTES && Buffer.byteLength(value) > MAX_ID_BYTES) {
      throw new LedgerValidationError(path, `is ${Buffer.byteLength(value)} bytes of UTF-8, above the id limit of ${MAX_ID_BYTES} bytes`);
    }
    return value;
  }

  private requiredString(value: unknown, path: string, index = -1, field = ''): string {
    if (typeof value !== 'string') this.fail(fieldPath(path, index, field), value, 'must be a string');
    return this.string(value, path, index, field);
  }

  /** A timestamp: a finite number of epoch milliseconds that a `Date` can hold. */
  private epochMs(value: unknown, path: string, expected?: string): number {
    const ms = this.finite(value, path, expected);
    if (ms < -MAX_TIMESTAMP_MS || ms > MAX_TIMESTAMP_MS) {
      throw new LedgerValidationError(
        path,
        `must be epoch milliseconds within ±8.64e15, the range of a JavaScript Date (years -271821 to 275760) (got ${describe(ms)}${likelyUnit(ms)})`,
      );
    }
    return ms;
  }

  private finite(value: unknown, path: string, expected = 'a finite number'): number {
    if (typeof value !== 'number' || !Number.isFinite(value)) this.fail(path, value, `must be ${expected}`);
    return jsonNumber(value);
  }

  private count(value: unknown, path: string): number {
    if (typeof value !== 'number' || !(value >= 0) || value === Infinity) this.fail(path, value, 'must be a non-negative number');
    return jsonNumber(value);
  }

  private stringList(value: unknown, path: string): string[] {
    if (!Array.isArray(value)) this.fail(path, value, 'must be an array of strings');
    const copy = this.copying ? new Array<string>(value.length) : (value as string[]);
    for (let i = 0; i < value.length; i++) copy[i] = this.requiredString(value[i], path, i);
    return copy;
  }

  private plainObject(value: unknown, at: PathNode | null): JsonObject {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw new LedgerValidationError(
        pathOf(at),
        this.jsonProblem(value) ?? `must be ${at ? 'an object' : 'a plain object'} (got ${describe(value)})`,
      );
    }
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) throw new LedgerValidationError(pathOf(at), `must be a plain object (got ${describe(value)})`);
    if (Object.prototype.hasOwnProperty.call(value, '__proto__'))
      throw new LedgerValidationError(pathOf({ parent: at, key: '__proto__' }), 'is a forbidden key');
    if (this.ancestors.includes(value)) throw new LedgerValidationError(pathOf(at), 'is a circular reference');
    return value as JsonObject;
  }

  /**
   * Deep-copies the keys of `source` that are not in `known` onto `target`.
   * `definedKnown` says how many of the known keys hold a value: when that is
   * all `source` has, there is nothing to copy (the common case, checked cheaply).
   */
  private copyExtras(source: JsonObject, target: JsonObject, known: Set<string>, definedKnown: number, at: PathNode | null): void {
    if (ownKeyCount(source) === definedKnown) return;
    for (const key in source) {
      if (known.has(key) || !Object.prototype.hasOwnProperty.call(source, key)) continue;
      const value = source[key];
      if (at === null && this.unknownFields !== 'keep' && value !== undefined) refuseUnknownField(key, this.unknownFields);
      if (value !== undefined) target[key] = cloneJson(value, { parent: at, key }, this.ancestors, this.maxStringLength, this.copying);
    }
  }

  /** Checks a nested standard object (`at` names it) and marks it as being copied. */
  private enterNested(value: unknown, at: PathNode): JsonObject {
    const obj = this.plainObject(value, at);
    this.ancestors.push(obj);
    return obj;
  }

  /**
   * Finishes a nested standard object: its checked standard `fields` become its
   * copy (or, when not copying, are written onto it), and its other fields are
   * copied onto that (`definedKnown` as in copyExtras). Returns the result.
   */
  private leaveNested<T extends object>(obj: JsonObject, fields: T, known: Set<string>, definedKnown: number, at: PathNode): T {
    const result = this.copying ? fields : (Object.assign(obj, fields) as T);
    this.copyExtras(obj, result as JsonObject, known, definedKnown, at);
    this.ancestors.pop();
    return result;
  }

  private diffSummary(value: unknown): RunEvent['diffSummary'] {
    const d = this.enterNested(value, DIFF_SUMMARY_AT);
    const copy = {
      linesAdded: this.count(d.linesAdded, 'diffSummary.linesAdded'),
      linesRemoved: this.count(d.linesRemoved, 'diffSummary.linesRemoved'),
      filesChanged: this.count(d.filesChanged, 'diffSummary.filesChanged'),
    };
    return this.leaveNested(d, copy, DIFF_FIELDS, 3, DIFF_SUMMARY_AT);
  }

  private testResults(value: unknown): RunEvent['testResults'] {
    const t = this.enterNested(value, TEST_RESULTS_AT);
    if (typeof t.ran !== 'boolean') this.fail('testResults.ran', t.ran, 'must be a boolean');
    const copy = {
      ran: t.ran as boolean,
      passed: t.passed === undefined ? 0 : this.count(t.passed, 'testResults.passed'),
      failed: t.failed === undefined ? 0 : this.count(t.failed, 'testResults.failed'),
      skipped: t.skipped === undefined ? 0 : this.count(t.skipped, 'testResults.skipped'),
    };
    return this.leaveNested(t, copy, TEST_FIELDS, 1 + defined(t.passed) + defined(t.failed) + defined(t.skipped), TEST_RESULTS_AT);
  }

  private violations(value: unknown): Violation[] {
    if (!Array.isArray(value)) this.fail('violations', value, 'must be an array');
    const out = this.copying ? new Array<Violation>(value.length) : (value as Violation[]);
    for (let i = 0; i < value.length; i++) {
      const at: PathNode = { parent: VIOLATIONS_AT, key: i };
      const v = this.enterNested(value[i], at);
      const violation: Violation = {
        ruleId: this.requiredString(v.ruleId, 'violations', i, 'ruleId'),
        description: this.requiredString(v.description, 'violations', i, 'description'),
        severity: RISK_CLASSES.includes(v.severity as RiskClass)
          ? (v.severity as RiskClass)
          : this.fail(fieldPath('violations', i, 'severity'), v.severity, `must be one of ${RISK_CLASSES.join(', ')}`),
        autoCorrected:
          v.autoCorrected === undefined
            ? false
            : typeof v.autoCorrected === 'boolean'
              ? v.autoCorrected
              : this.fail(fieldPath('violations', i, 'autoCorrected'), v.autoCorrected, 'must be a boolean'),
      };
      if (v.location !== undefined) violation.location = this.requiredString(v.location, 'violations', i, 'location');
      out[i] = this.leaveNested(v, violation, VIOLATION_FIELDS, 3 + defined(v.autoCorrected) + defined(v.location), at);
    }
    return out;
  }

  private outcome(value: unknown): boolean | null {
    if (value === null) return null;
    if (typeof value !== 'boolean') this.fail('outcomeAccepted', value, 'must be a boolean or null');
    return value;
  }

  private intent(value: unknown): TaskIntent {
    if (!TASK_INTENTS.includes(value as TaskIntent)) this.fail('intent', value, `must be one of ${TASK_INTENTS.join(', ')}`);
    return value as TaskIntent;
  }
}

/**
 * Validates an event given to the ledger and returns a deep copy with every
 * standard field present (missing ones get the `createEvent` defaults).
 * `taskId` (a non-empty string) and `timestamp` (finite epoch milliseconds within
 * ±{@link MAX_TIMESTAMP_MS}) are required. Extra top-level fields are kept or
 * refused as `unknownFields` says (store-level copies keep them: `'keep'`).
 * The copy keeps the input's `eventId`, or gets a new UUID when it has none or
 * when `freshId` is set.
 *
 * @throws LedgerValidationError naming the first offending field.
 */
export function sanitizeRunEvent(input: unknown, maxEventBytes: number, freshId = false, unknownFields: UnknownFieldsPolicy = 'keep'): RunEvent {
  return new EventSanitizer(maxEventBytes, true, unknownFields).run(input, freshId);
}

/**
 * Validates an event read back from a store with the same rules and defaults
 * as `logEvent` input, so that queries never meet a malformed event. Returns
 * null for one that is not a valid event (the store counts it as corrupt).
 * An event without `eventId` gets `idWhenMissing()`, which must be stable
 * for the same stored event (each read must give it the same id).
 */
export function restoreStoredEvent(value: unknown, maxEventBytes: number, idWhenMissing: () => string): RunEvent | null {
  try {
    return new EventSanitizer(maxEventBytes, false).run(value, false, idWhenMissing);
  } catch (err) {
    if (err instanceof LedgerValidationError) return null;
    throw err;
  }
}
