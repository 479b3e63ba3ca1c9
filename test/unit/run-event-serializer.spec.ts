/**
 * The field-by-field serializer must write exactly what JSON.stringify writes,
 * for every event the validator produces and for any other object a store is handed.
 */
import fc from 'fast-check';
import { LedgerValidationError } from '../../lib';
import { RunEvent } from '../../lib/events/run-event.interface';
import { serializeRunEvent } from '../../lib/events/run-event.serializer';
import { sanitizeRunEvent } from '../../lib/events/run-event.validator';

const LIMIT = 1024 * 1024;
/** Any string, including quotes, backslashes, control characters, emoji and lone surrogates (JSON.stringify escapes those). */
const anyText = fc.string({ unit: 'binary', maxLength: 30 });
const wellFormedText = fc.string({ unit: 'grapheme', maxLength: 30 });
const count = fc.oneof(fc.nat(), fc.double({ min: 0, max: 1e22, noNaN: true }));
const finite = fc.double({ noNaN: true, noDefaultInfinity: true });

const violation = fc.record(
  {
    ruleId: wellFormedText,
    description: wellFormedText,
    severity: fc.constantFrom('critical', 'high', 'medium', 'low', 'info'),
    autoCorrected: fc.boolean(),
    location: wellFormedText,
    note: fc.jsonValue({ maxDepth: 2 }),
  },
  { requiredKeys: ['ruleId', 'description', 'severity'] },
);

const validInput = fc.record(
  {
    eventId: wellFormedText,
    taskId: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 16 }),
    timestamp: finite,
    guidanceHash: wellFormedText,
    retrievedRuleIds: fc.array(wellFormedText, { maxLength: 4 }),
    toolsUsed: fc.array(wellFormedText, { maxLength: 4 }),
    filesTouched: fc.array(wellFormedText, { maxLength: 4 }),
    diffSummary: fc.record(
      { linesAdded: count, linesRemoved: count, filesChanged: count, extra: fc.jsonValue({ maxDepth: 1 }) },
      { requiredKeys: ['linesAdded', 'linesRemoved', 'filesChanged'] },
    ),
    testResults: fc.record({ ran: fc.boolean(), passed: count, failed: count, skipped: count, extra: fc.string() }, { requiredKeys: ['ran'] }),
    violations: fc.array(violation, { maxLength: 3 }),
    outcomeAccepted: fc.constantFrom(true, false, null),
    reworkLines: count,
    intent: fc.constantFrom('bug-fix', 'feature', 'refactor', 'security', 'docs', 'general'),
    durationMs: finite,
    sessionId: wellFormedText,
    clarifyingQuestions: count,
    dependenciesAdded: fc.array(wellFormedText, { maxLength: 3 }),
    custom: fc.jsonValue({ maxDepth: 3 }),
    '0': fc.string(),
  },
  { requiredKeys: ['taskId', 'timestamp'] },
);

/** The validated copy; inputs the validator refuses (a generated `__proto__` key, say) are skipped. */
function validated(input: unknown): RunEvent {
  try {
    return sanitizeRunEvent(input, LIMIT);
  } catch (err) {
    if (!(err instanceof LedgerValidationError)) throw err;
    fc.pre(false);
    throw err;
  }
}

const serialized = (event: RunEvent): string => serializeRunEvent(event, LIMIT);
const expected = (event: RunEvent): string => JSON.stringify(event);

describe('serializeRunEvent', () => {
  it('writes exactly what JSON.stringify writes for every validated event', () => {
    fc.assert(
      fc.property(validInput, (input) => {
        const event = validated(input);
        expect(serialized(event)).toBe(expected(event));
      }),
      { numRuns: 2000 },
    );
  });

  it('writes exactly what JSON.stringify writes for objects of any other shape', () => {
    const loose = fc.dictionary(
      fc.constantFrom(
        'eventId',
        'taskId',
        'guidanceHash',
        'toolsUsed',
        'diffSummary',
        'testResults',
        'violations',
        'outcomeAccepted',
        'timestamp',
        'durationMs',
        'sessionId',
        'other',
      ),
      fc.oneof(fc.jsonValue({ maxDepth: 2 }), anyText, fc.constant(undefined), fc.double()),
    );
    fc.assert(
      fc.property(validInput, loose, (input, overrides) => {
        const event = { ...validated(input), ...overrides } as unknown as RunEvent;
        expect(serialized(event)).toBe(expected(event));
      }),
      { numRuns: 1000 },
    );
  });

  it('escapes strings the way JSON.stringify does (controls, quotes, astral characters, lone surrogates), cached or not', () => {
    const base = sanitizeRunEvent({ taskId: 't', timestamp: 1 }, LIMIT);
    const fullUnicode = fc.string({
      unit: fc.oneof(
        fc.integer({ min: 0, max: 0x10ffff }).map((c) => String.fromCodePoint(c)),
        fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
      ),
      maxLength: 20,
    });
    fc.assert(
      fc.property(anyText, fullUnicode, (a, b) => {
        // Twice: the second time the strings come from the cache of quoted strings.
        for (let round = 0; round < 2; round++) {
          const event = { ...base, eventId: a, taskId: b, toolsUsed: [a, b], guidanceHash: `${b}${a}` } as RunEvent;
          expect(serialized(event)).toBe(expected(event));
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('writes numbers as JSON does: integers of every size, fractions, exponents, negative zero', () => {
    const base = sanitizeRunEvent({ taskId: 't', timestamp: 1 }, LIMIT);
    const anyNumber = fc.oneof(
      fc.integer(),
      fc.maxSafeInteger(),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.constantFrom(-0, 1e8, 99_999_999, 100_000_001, 2 ** 53, 1e21, 5e-324),
    );
    fc.assert(
      fc.property(anyNumber, anyNumber, (a, b) => {
        const event = {
          ...base,
          timestamp: a,
          durationMs: b,
          reworkLines: Math.abs(a),
          diffSummary: { linesAdded: b, linesRemoved: 0, filesChanged: a },
        } as RunEvent;
        expect(serialized(event)).toBe(expected(event));
      }),
      { numRuns: 2000 },
    );
  });

  it('notices a list that changed since the last event, also when the same array was modified in place', () => {
    const event = sanitizeRunEvent({ taskId: 't', timestamp: 1, toolsUsed: ['a', 'b'] }, LIMIT);
    expect(serialized(event)).toBe(expected(event));
    event.toolsUsed.push('c');
    expect(serialized(event)).toBe(expected(event));
    event.toolsUsed[0] = 'z';
    expect(serialized(event)).toBe(expected(event));
    event.toolsUsed.length = 0;
    expect(serialized(event)).toBe(expected(event));
  });

  it('rejects a line above the size limit by its UTF-8 size, naming the limit, on either path', () => {
    const standard = sanitizeRunEvent({ taskId: 't', timestamp: 1, guidanceHash: 'é'.repeat(600) }, LIMIT);
    const other = { ...standard, toolsUsed: 'not a list' } as unknown as RunEvent;
    for (const event of [standard, other]) {
      const bytes = Buffer.byteLength(JSON.stringify(event));
      expect(serializeRunEvent(event, bytes)).toBe(expected(event));
      expect(() => serializeRunEvent(event, bytes - 1)).toThrow(LedgerValidationError);
      expect(() => serializeRunEvent(event, bytes - 1)).toThrow(`serialises to ${bytes} bytes, above the per-event limit of ${bytes - 1} bytes`);
    }
  });
});
