/**
 * The field-by-field serializer must write exactly what JSON.stringify writes
 * for every event the validator produces, and the same JSON value for any
 * other object a store is handed.
 */
import fc from 'fast-check';
import { LedgerValidationError } from '../lib';
import { RunEvent } from '../lib/interfaces/run-event.interface';
import { serializeRunEvent } from '../lib/run-event.serializer';
import { sanitizeRunEvent } from '../lib/run-event.validator';

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
    diffSummary: fc.record({ linesAdded: count, linesRemoved: count, filesChanged: count, extra: fc.jsonValue({ maxDepth: 1 }) }, { requiredKeys: ['linesAdded', 'linesRemoved', 'filesChanged'] }),
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

describe('serializeRunEvent', () => {
  it('writes exactly what JSON.stringify writes for every validated event', () => {
    fc.assert(
      fc.property(validInput, (input) => {
        const event = sanitizeRunEvent(input, LIMIT);
        expect(serializeRunEvent(event, LIMIT)).toBe(JSON.stringify(event));
      }),
      { numRuns: 2000 },
    );
  });

  it('writes the same JSON value as JSON.stringify for objects of any other shape', () => {
    const loose = fc.dictionary(
      fc.constantFrom('eventId', 'taskId', 'guidanceHash', 'toolsUsed', 'diffSummary', 'testResults', 'violations', 'outcomeAccepted', 'timestamp', 'durationMs', 'sessionId', 'other'),
      fc.oneof(fc.jsonValue({ maxDepth: 2 }), anyText, fc.constant(undefined), fc.double()),
    );
    fc.assert(
      fc.property(validInput, loose, (input, overrides) => {
        const event = { ...sanitizeRunEvent(input, LIMIT), ...overrides } as unknown as RunEvent;
        expect(JSON.parse(serializeRunEvent(event, LIMIT))).toEqual(JSON.parse(JSON.stringify(event)));
      }),
      { numRuns: 1000 },
    );
  });

  it('escapes strings the way JSON.stringify does, cached or not', () => {
    const base = sanitizeRunEvent({ taskId: 't', timestamp: 1 }, LIMIT);
    fc.assert(
      fc.property(anyText, anyText, (a, b) => {
        // The same strings twice: once quoted fresh, once from the cache.
        for (let round = 0; round < 2; round++) {
          const event = { ...base, eventId: a, taskId: b, toolsUsed: [a, b], guidanceHash: a } as RunEvent;
          expect(serializeRunEvent(event, LIMIT)).toBe(JSON.stringify(event));
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('rejects a line above the size limit by its UTF-8 size, naming the limit', () => {
    const event = sanitizeRunEvent({ taskId: 't', timestamp: 1, guidanceHash: 'é'.repeat(600) }, LIMIT);
    const bytes = Buffer.byteLength(JSON.stringify(event));
    expect(serializeRunEvent(event, bytes)).toBe(JSON.stringify(event));
    expect(() => serializeRunEvent(event, bytes - 1)).toThrow(LedgerValidationError);
    expect(() => serializeRunEvent(event, bytes - 1)).toThrow(`serialises to ${bytes} bytes, above the per-event limit of ${bytes - 1} bytes`);
  });
});
