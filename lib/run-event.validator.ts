import { LedgerValidationError } from './errors/ledger-validation.error';
import { RISK_CLASSES, RunEvent, TASK_INTENTS } from './interfaces/run-event.interface';

/** Default per-event size limit: the largest string, and the largest serialised event, in bytes. */
export const DEFAULT_MAX_EVENT_BYTES = 4 * 1024 * 1024;

const MAX_DEPTH = 64;
/** The path reported for a problem with the event object itself. */
const ROOT = 'event';

type JsonObject = Record<string, unknown>;

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isNaN(value) ? 'NaN' : String(value);
  if (typeof value === 'object') {
    const proto = Object.getPrototypeOf(value);
    return proto && proto.constructor && proto.constructor !== Object ? `${proto.constructor.name} instance` : 'object';
  }
  return typeof value;
}

/**
 * Deep-copies a JSON value, rejecting anything that would not survive a
 * JSON round trip unchanged: BigInt, functions, symbols, non-finite numbers,
 * cycles, class instances, `__proto__` keys, lone surrogates, over-long strings.
 */
function cloneJson(value: unknown, path: string, depth: number, ancestors: Set<object>, maxStringLength: number): unknown {
  switch (typeof value) {
    case 'string':
      if (value.length > maxStringLength) {
        throw new LedgerValidationError(path, `is ${value.length} characters long, above the per-event limit of ${maxStringLength} bytes`);
      }
      if (!value.isWellFormed()) throw new LedgerValidationError(path, 'contains a lone UTF-16 surrogate (not valid Unicode)');
      return value;
    case 'number':
      if (!Number.isFinite(value)) throw new LedgerValidationError(path, `must be a finite number (got ${describe(value)})`);
      return value;
    case 'boolean':
      return value;
    case 'object':
      break;
    default:
      throw new LedgerValidationError(path, `is not JSON-serialisable (got ${typeof value})`);
  }
  if (value === null) return null;
  if (depth > MAX_DEPTH) throw new LedgerValidationError(path, `nests deeper than ${MAX_DEPTH} levels`);
  if (ancestors.has(value)) throw new LedgerValidationError(path, 'is a circular reference');
  ancestors.add(value);
  try {
    if (Array.isArray(value)) {
      const out = new Array<unknown>(value.length);
      for (let i = 0; i < value.length; i++) {
        const item = value[i];
        if (item === undefined) throw new LedgerValidationError(`${path}[${i}]`, 'is undefined (not JSON-serialisable)');
        out[i] = cloneJson(item, `${path}[${i}]`, depth + 1, ancestors, maxStringLength);
      }
      return out;
    }
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) {
      throw new LedgerValidationError(path, `must be a plain object (got ${describe(value)})`);
    }
    if (Object.getOwnPropertySymbols(value).length > 0) {
      throw new LedgerValidationError(path, 'has symbol keys (not JSON-serialisable)');
    }
    const out: JsonObject = {};
    for (const key of Object.keys(value)) {
      const childPath = path === ROOT ? key : `${path}.${key}`;
      if (key === '__proto__') throw new LedgerValidationError(childPath, 'is a forbidden key');
      const child = (value as JsonObject)[key];
      if (child === undefined) continue;
      out[key] = cloneJson(child, childPath, depth + 1, ancestors, maxStringLength);
    }
    return out;
  } finally {
    ancestors.delete(value);
  }
}

function expectString(obj: JsonObject, key: string, fallback?: string, path = key): void {
  const v = obj[key];
  if (v === undefined && fallback !== undefined) obj[key] = fallback;
  else if (v !== undefined && typeof v !== 'string') throw new LedgerValidationError(path, `must be a string (got ${describe(v)})`);
}

function expectStringArray(obj: JsonObject, key: string, required: boolean): void {
  const v = obj[key];
  if (v === undefined) {
    if (required) obj[key] = [];
    return;
  }
  if (!Array.isArray(v)) throw new LedgerValidationError(key, `must be an array of strings (got ${describe(v)})`);
  v.forEach((item, i) => {
    if (typeof item !== 'string') throw new LedgerValidationError(`${key}[${i}]`, `must be a string (got ${describe(item)})`);
  });
}

function expectCount(obj: JsonObject, key: string, path: string, fallback?: number): void {
  const v = obj[key];
  if (v === undefined && fallback !== undefined) {
    obj[key] = fallback;
    return;
  }
  if (typeof v !== 'number' || v < 0) throw new LedgerValidationError(path, `must be a non-negative number (got ${describe(v)})`);
}

function expectRecord(obj: JsonObject, key: string, path: string): JsonObject | undefined {
  const v = obj[key];
  if (v === undefined) return undefined;
  if (v === null || typeof v !== 'object' || Array.isArray(v)) {
    throw new LedgerValidationError(path, `must be an object (got ${describe(v)})`);
  }
  return v as JsonObject;
}

function checkViolations(obj: JsonObject): void {
  const v = obj.violations;
  if (v === undefined) {
    obj.violations = [];
    return;
  }
  if (!Array.isArray(v)) throw new LedgerValidationError('violations', `must be an array (got ${describe(v)})`);
  v.forEach((item: unknown, i) => {
    const path = `violations[${i}]`;
    if (item === null || typeof item !== 'object' || Array.isArray(item)) {
      throw new LedgerValidationError(path, `must be an object (got ${describe(item)})`);
    }
    const violation = item as JsonObject;
    for (const key of ['ruleId', 'description']) {
      if (typeof violation[key] !== 'string') {
        throw new LedgerValidationError(`${path}.${key}`, `must be a string (got ${describe(violation[key])})`);
      }
    }
    if (!RISK_CLASSES.includes(violation.severity as never)) {
      throw new LedgerValidationError(`${path}.severity`, `must be one of ${RISK_CLASSES.join(', ')} (got ${describe(violation.severity)})`);
    }
    expectString(violation, 'location', undefined, `${path}.location`);
    if (violation.autoCorrected === undefined) violation.autoCorrected = false;
    if (typeof violation.autoCorrected !== 'boolean') {
      throw new LedgerValidationError(`${path}.autoCorrected`, `must be a boolean (got ${describe(violation.autoCorrected)})`);
    }
  });
}

/**
 * Validates an event given to the ledger and returns a deep copy with every
 * standard field present (missing ones get the `createEvent` defaults).
 * `taskId` (a non-empty string) and `timestamp` (a finite number) are required.
 *
 * @throws LedgerValidationError naming the first offending field.
 */
export function sanitizeRunEvent(input: unknown, maxEventBytes = DEFAULT_MAX_EVENT_BYTES): RunEvent {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new LedgerValidationError('event', `must be a plain object (got ${describe(input)})`);
  }
  const event = cloneJson(input, ROOT, 0, new Set(), maxEventBytes) as JsonObject;

  if (typeof event.taskId !== 'string' || event.taskId.length === 0) {
    throw new LedgerValidationError('taskId', `must be a non-empty string (got ${describe(event.taskId)})`);
  }
  if (typeof event.timestamp !== 'number') {
    throw new LedgerValidationError('timestamp', `must be a finite number of epoch milliseconds (got ${describe(event.timestamp)})`);
  }
  expectString(event, 'eventId');
  expectString(event, 'guidanceHash', '');
  expectString(event, 'sessionId');
  expectStringArray(event, 'retrievedRuleIds', true);
  expectStringArray(event, 'toolsUsed', true);
  expectStringArray(event, 'filesTouched', true);
  expectStringArray(event, 'dependenciesAdded', false);

  const diff = expectRecord(event, 'diffSummary', 'diffSummary');
  if (diff) {
    for (const key of ['linesAdded', 'linesRemoved', 'filesChanged']) expectCount(diff, key, `diffSummary.${key}`);
  } else {
    event.diffSummary = { linesAdded: 0, linesRemoved: 0, filesChanged: 0 };
  }

  const tests = expectRecord(event, 'testResults', 'testResults');
  if (tests) {
    if (typeof tests.ran !== 'boolean') throw new LedgerValidationError('testResults.ran', `must be a boolean (got ${describe(tests.ran)})`);
    for (const key of ['passed', 'failed', 'skipped']) expectCount(tests, key, `testResults.${key}`, 0);
  } else {
    event.testResults = { ran: false, passed: 0, failed: 0, skipped: 0 };
  }

  checkViolations(event);

  if (event.outcomeAccepted === undefined) event.outcomeAccepted = null;
  if (event.outcomeAccepted !== null && typeof event.outcomeAccepted !== 'boolean') {
    throw new LedgerValidationError('outcomeAccepted', `must be a boolean or null (got ${describe(event.outcomeAccepted)})`);
  }
  expectCount(event, 'reworkLines', 'reworkLines', 0);
  if (event.clarifyingQuestions !== undefined) expectCount(event, 'clarifyingQuestions', 'clarifyingQuestions');
  if (event.intent === undefined) event.intent = 'general';
  if (!TASK_INTENTS.includes(event.intent as never)) {
    throw new LedgerValidationError('intent', `must be one of ${TASK_INTENTS.join(', ')} (got ${describe(event.intent)})`);
  }
  if (event.durationMs === undefined) event.durationMs = 0;
  if (typeof event.durationMs !== 'number') throw new LedgerValidationError('durationMs', `must be a finite number (got ${describe(event.durationMs)})`);
  return event as unknown as RunEvent;
}

/**
 * Serialises a sanitised event to one NDJSON line (without the newline).
 *
 * @throws LedgerValidationError when the line is larger than `maxEventBytes`.
 */
export function serializeRunEvent(event: RunEvent, maxEventBytes = DEFAULT_MAX_EVENT_BYTES): string {
  const line = JSON.stringify(event);
  // A string's UTF-8 size is at most 3 bytes per UTF-16 unit, so most lines need no exact count.
  if (line.length * 3 > maxEventBytes) {
    const bytes = Buffer.byteLength(line, 'utf8');
    if (bytes > maxEventBytes) {
      throw new LedgerValidationError('event', `serialises to ${bytes} bytes, above the per-event limit of ${maxEventBytes} bytes (maxEventBytes)`);
    }
  }
  return line;
}
