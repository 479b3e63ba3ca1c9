import { LedgerConfigError, LedgerValidationError, MAX_ID_BYTES, RunEventInput, RunLedger, createPersistentLedger } from '../../lib';
import { runEventInput } from '../helpers/run-events';

function rejectionOf(input: unknown, ledger = new RunLedger()): LedgerValidationError {
  try {
    ledger.logEvent(input as RunEventInput);
  } catch (err) {
    expect(err).toBeInstanceOf(LedgerValidationError);
    expect(ledger.eventCount).toBe(0);
    return err as LedgerValidationError;
  }
  throw new Error('logEvent accepted an invalid event');
}

describe('logEvent validation', () => {
  const cyclic: Record<string, unknown> = { taskId: 't', timestamp: 1 };
  cyclic.self = cyclic;
  const withProto = JSON.parse('{"taskId":"t","timestamp":1,"__proto__":{"polluted":true}}');

  it.each([
    ['a non-object', 'nope', 'event', /plain object/],
    ['an array', [runEventInput()], 'event', /plain object/],
    ['a missing taskId', { timestamp: 1 }, 'taskId', /non-empty string/],
    ['a numeric taskId', { taskId: 7, timestamp: 1 }, 'taskId', /non-empty string \(got 7\)/],
    ['an empty taskId', { taskId: '', timestamp: 1 }, 'taskId', /non-empty string/],
    ['a missing timestamp', { taskId: 't' }, 'timestamp', /finite number/],
    ['a NaN timestamp', { taskId: 't', timestamp: NaN }, 'timestamp', /finite number \(got NaN\)/],
    ['an Infinity timestamp', { taskId: 't', timestamp: Infinity }, 'timestamp', /finite number/],
    ['a string timestamp', { taskId: 't', timestamp: '2024-01-01' }, 'timestamp', /finite number/],
    ['a BigInt', { taskId: 't', timestamp: 1, reworkLines: 10n }, 'reworkLines', /not JSON-serialisable \(got bigint\)/],
    ['a cycle', cyclic, 'self', /circular/],
    ['a function', { taskId: 't', timestamp: 1, callback: () => 1 }, 'callback', /got function/],
    ['a symbol value', { taskId: 't', timestamp: 1, tag: Symbol('x') }, 'tag', /got symbol/],
    ['a __proto__ key', withProto, '__proto__', /forbidden key/],
    ['a lone surrogate', { taskId: 't', timestamp: 1, sessionId: 'a\uD800b' }, 'sessionId', /lone UTF-16 surrogate/],
    ['a Date', { taskId: 't', timestamp: 1, when: new Date() }, 'when', /plain object \(got Date instance\)/],
    ['a wrong list type', { taskId: 't', timestamp: 1, toolsUsed: 'npm test' }, 'toolsUsed', /array of strings/],
    ['a wrong list item', { taskId: 't', timestamp: 1, filesTouched: ['a', 3] }, 'filesTouched[1]', /must be a string/],
    [
      'a negative count',
      { taskId: 't', timestamp: 1, diffSummary: { linesAdded: -1, linesRemoved: 0, filesChanged: 0 } },
      'diffSummary.linesAdded',
      /non-negative/,
    ],
    ['a bad test flag', { taskId: 't', timestamp: 1, testResults: { ran: 'yes' } }, 'testResults.ran', /boolean/],
    [
      'a bad severity',
      { taskId: 't', timestamp: 1, violations: [{ ruleId: 'r', description: 'd', severity: 'huge', autoCorrected: false }] },
      'violations[0].severity',
      /one of critical/,
    ],
    ['a bad intent', { taskId: 't', timestamp: 1, intent: 'party' }, 'intent', /one of bug-fix.* \(got "party"\)$/],
    // A wrong value is quoted as JSON (a string) or named by its type; a long one is cut short.
    [
      'a severity that is not one of the five',
      { taskId: 't', timestamp: 1, violations: [{ ruleId: 'r', description: 'd', severity: 'error' }] },
      'violations[0].severity',
      /must be one of critical, high, medium, low, info \(got "error"\)$/,
    ],
    [
      'a numeric severity',
      { taskId: 't', timestamp: 1, violations: [{ ruleId: 'r', description: 'd', severity: 3 }] },
      'violations[0].severity',
      /\(got 3\)$/,
    ],
    ['a null intent', { taskId: 't', timestamp: 1, intent: null }, 'intent', /\(got null\)$/],
    ['a very long wrong intent', { taskId: 't', timestamp: 1, intent: 'x'.repeat(500) }, 'intent', /\(got "x{40}\.\.\." \(500 characters\)\)$/],
    ['a string with quotes where a number goes', { taskId: 't', timestamp: 'say "when"' }, 'timestamp', /\(got "say \\"when\\""\)$/],
    // What no JavaScript Date can hold (beyond +-8.64e15 ms): refused, with the likely unit when it looks like one.
    [
      'a timestamp in nanoseconds',
      { taskId: 't', timestamp: 1.7e18 },
      'timestamp',
      /must be epoch milliseconds within \u00b18\.64e15, .*\(got 1700000000000000000: nanoseconds\? Divide by 1e6\)/,
    ],
    ['a timestamp in microseconds', { taskId: 't', timestamp: 1e16 }, 'timestamp', /within \u00b18\.64e15, .*microseconds\? Divide by 1e3/],
    ['a timestamp far before any date', { taskId: 't', timestamp: -8.64e15 - 1 }, 'timestamp', /within \u00b18\.64e15, .*\(got -8640000000000001\)$/],
    ['a bad outcome', { taskId: 't', timestamp: 1, outcomeAccepted: 'yes' }, 'outcomeAccepted', /boolean or null/],
    ['an undefined array item', { taskId: 't', timestamp: 1, toolsUsed: [undefined] }, 'toolsUsed[0]', /undefined/],
    // Paths read like JavaScript property paths, with the dot after an index.
    ['a NaN inside an array of objects', { taskId: 't', timestamp: 1, extra: [{ n: NaN }] }, 'extra[0].n', /finite number \(got NaN\)/],
    ['a NaN deep in an array', { taskId: 't', timestamp: 1, extra: [[{ a: { b: [1, NaN] } }]] }, 'extra[0][0].a.b[1]', /finite number/],
    [
      'a function in a violation extra',
      { taskId: 't', timestamp: 1, violations: [{ ruleId: 'r', description: 'd', severity: 'low', meta: { x: () => 1 } }] },
      'violations[0].meta.x',
      /got function/,
    ],
    // Ids are columns on PostgreSQL: both stores refuse what it cannot hold.
    ['a NUL in taskId', { taskId: 'a\u0000b', timestamp: 1 }, 'taskId', /U\+0000/],
    [
      'a taskId above the id limit',
      { taskId: 't'.repeat(MAX_ID_BYTES + 1), timestamp: 1 },
      'taskId',
      /1025 bytes of UTF-8, above the id limit of 1024/,
    ],
    ['a taskId above the id limit in UTF-8 bytes', { taskId: 'é'.repeat(513), timestamp: 1 }, 'taskId', /1026 bytes/],
  ])('rejects %s, naming the field', (_label, input, field, problem) => {
    const error = rejectionOf(input);
    expect(error.field).toBe(field);
    expect(error.message).toMatch(problem);
    expect(error.message).toContain(`"${field}"`);
  });

  it('rejects a string above the per-event size limit, naming the field', () => {
    const ledger = new RunLedger({ maxEventBytes: 1000 });
    const error = rejectionOf({ taskId: 't', timestamp: 1, guidanceHash: 'x'.repeat(1001) }, ledger);
    expect(error.field).toBe('guidanceHash');
    expect(error.message).toMatch(/above the per-event limit of 1000 bytes/);
  });

  it('leaves symbol-keyed properties out of the stored copy, at any depth, as JSON.stringify does', () => {
    const key = Symbol('meta');
    const input = {
      taskId: 't',
      timestamp: 1,
      [key]: 'root',
      diffSummary: { linesAdded: 1, linesRemoved: 0, filesChanged: 1, [key]: 'diff' },
      testResults: { ran: true, [key]: 'tests' },
      violations: [{ ruleId: 'r', description: 'd', severity: 'low', [key]: 'violation' }],
      extra: { nested: { [key]: 'deep', kept: true } },
    };
    const stored = new RunLedger().logEvent(input as unknown as RunEventInput);
    const symbolKeys = (value: unknown): number =>
      value && typeof value === 'object'
        ? Object.getOwnPropertySymbols(value).length + Object.values(value).reduce((n: number, v) => n + symbolKeys(v), 0)
        : 0;
    expect(symbolKeys(stored)).toBe(0);
    expect(stored).toEqual(JSON.parse(JSON.stringify(stored)));
    expect((stored as unknown as { extra: unknown }).extra).toEqual({ nested: { kept: true } });
    expect(stored.diffSummary).toEqual({ linesAdded: 1, linesRemoved: 0, filesChanged: 1 });
  });

  it('drops undefined optional fields and keeps extra JSON fields', () => {
    // Extra fields: declared in a type of the caller's own, as the README shows.
    const input: RunEventInput & { extra: unknown } = { taskId: 't', timestamp: 1, sessionId: undefined, extra: { nested: [1, 'two', null] } };
    const stored = new RunLedger().logEvent(input);
    expect('sessionId' in stored).toBe(false);
    expect(stored).toMatchObject({ extra: { nested: [1, 'two', null] } });
  });

  it('stores -0 as 0, as it reads back from disk', () => {
    const input: RunEventInput & { extra: unknown } = { taskId: 't', timestamp: -0, extra: { n: -0 } };
    const stored = new RunLedger().logEvent(input);
    expect(Object.is(stored.timestamp, 0)).toBe(true);
    expect(Object.is((stored as unknown as { extra: { n: number } }).extra.n, 0)).toBe(true);
  });

  it('accepts a taskId of exactly the id limit, and NUL in any other string (stored losslessly by both stores)', () => {
    const ledger = new RunLedger();
    const input: RunEventInput & { note: object } = {
      taskId: 'é'.repeat(MAX_ID_BYTES / 2),
      timestamp: 1,
      sessionId: 's\u0000',
      toolsUsed: ['a\u0000b'],
      note: { 'k\u0000': 'v\u0000' },
    };
    const stored = ledger.logEvent(input);
    expect(stored.toolsUsed).toEqual(['a\u0000b']);
    expect((stored as unknown as { note: object }).note).toEqual({ 'k\u0000': 'v\u0000' });
  });

  it('importEvents refuses an eventId with NUL or above the id limit, naming the event and field', () => {
    for (const [eventId, problem] of [
      ['id\u0000x', /U\+0000/],
      ['i'.repeat(MAX_ID_BYTES + 1), /above the id limit/],
    ] as const) {
      const ledger = new RunLedger();
      let error: unknown;
      try {
        ledger.importEvents([runEventInput(), { ...runEventInput(), eventId }]);
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(LedgerValidationError);
      expect((error as LedgerValidationError).field).toBe('[1].eventId');
      expect((error as LedgerValidationError).message).toMatch(problem);
      expect(ledger.eventCount).toBe(0);
    }
  });

  it('accepts the first and last millisecond a Date can hold', () => {
    const ledger = new RunLedger();
    expect(ledger.logEvent({ taskId: 't', timestamp: 8.64e15 }).timestamp).toBe(8.64e15);
    expect(ledger.logEvent({ taskId: 't', timestamp: -8.64e15 }).timestamp).toBe(-8.64e15);
  });

  it('leaves earlier events untouched when one is rejected', () => {
    const ledger = new RunLedger();
    const ok = ledger.logEvent(runEventInput());
    expect(() => ledger.logEvent({ taskId: 't', timestamp: NaN })).toThrow(LedgerValidationError);
    expect(ledger.getEvents()).toEqual([ok]);
  });
});

describe('logEvent input type', () => {
  it('completes standard fields and refuses misspelt ones at compile time (npm run lint type-checks this file)', () => {
    const ledger = new RunLedger();
    // @ts-expect-error misspelt field: a compile error (and at run time, a LedgerValidationError)
    expect(() => ledger.logEvent({ taskId: 't', timestamp: 1, toolUsed: ['npm test'] })).toThrow(LedgerValidationError);
    // @ts-expect-error a required field is missing
    expect(() => ledger.logEvent({ taskId: 't' })).toThrow(LedgerValidationError);
    const typed: RunEventInput = { taskId: 't', timestamp: 1, toolsUsed: ['npm test'] };
    expect(ledger.logEvent(typed).toolsUsed).toEqual(['npm test']);
  });
});

describe('unknown top-level fields (the unknownFields option)', () => {
  const misspelt = { taskId: 't', timestamp: 1, toolUsed: ['npm test'] };
  const custom = { taskId: 't', timestamp: 1, reviewer: 'ana', ticket: { id: 7 } };

  it("by default ('refuse-typos') refuses a field named like a standard one, saying which; other extra fields are kept", () => {
    const ledger = new RunLedger();
    const error = rejectionOf(misspelt, ledger);
    expect(error.field).toBe('toolUsed');
    expect(error.message).toMatch(/"toolUsed" is not a run-event field: did you mean "toolsUsed"\?/);
    expect(rejectionOf({ taskId: 't', timestamp: 1, SessionID: 's' }, ledger).message).toMatch(/did you mean "sessionId"\?/);
    expect(ledger.logEvent(custom)).toMatchObject({ reviewer: 'ana', ticket: { id: 7 } });
  });

  it("'keep' stores every extra field, misspelt or not", () => {
    const ledger = new RunLedger({ unknownFields: 'keep' });
    const stored = ledger.logEvent(misspelt as RunEventInput);
    expect(stored).toMatchObject({ toolsUsed: [], toolUsed: ['npm test'] });
  });

  it("'refuse' refuses every field the schema does not have, suggesting one when it is close", () => {
    const ledger = new RunLedger({ unknownFields: 'refuse' });
    const error = rejectionOf(custom, ledger);
    expect(error.field).toBe('reviewer');
    expect(error.message).toMatch(/"reviewer" is not a run-event field \(unknownFields: 'refuse'\)$/);
    expect(rejectionOf(misspelt, ledger).message).toMatch(/did you mean "toolsUsed"\?/);
    // Nested objects keep their extra fields: the option is about the event's own fields.
    expect(
      ledger.logEvent({ taskId: 't', timestamp: 1, diffSummary: { linesAdded: 1, linesRemoved: 0, filesChanged: 1, note: 'x' } as never }),
    ).toMatchObject({ diffSummary: { note: 'x' } });
  });

  it('applies to importEvents and finalizeEvent, naming the index', () => {
    const ledger = new RunLedger();
    expect(() => ledger.importEvents([{ ...misspelt, eventId: 'a' }])).toThrow(
      /"\[0\]\.toolUsed" is not a run-event field: did you mean "toolsUsed"\?/,
    );
    expect(() => ledger.finalizeEvent({ ...ledger.createEvent('t'), toolUsed: [] } as never)).toThrow(/"toolUsed"/);
    expect(ledger.eventCount).toBe(0);
  });

  it('is checked with the other options', () => {
    expect(() => createPersistentLedger({ unknownFields: 'drop' as never })).toThrow(LedgerConfigError);
    expect(() => createPersistentLedger({ unknownFields: 'drop' as never })).toThrow(
      /"unknownFields": must be 'refuse-typos', 'refuse' or 'keep' \(got string "drop"\)/,
    );
  });
});
