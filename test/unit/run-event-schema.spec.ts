/**
 * RUN_EVENT_SCHEMA is the one definition of the run event: the validator's
 * checks and defaults and the serializer's output follow it, compiled into
 * specialised functions or, where code generation is forbidden, through a
 * field-by-field loop. Both paths must give exactly the same results.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import fc from 'fast-check';
import { LedgerValidationError, RUN_EVENT_FIELDS, RunLedger } from '../../lib';
import { RUN_EVENT_SCHEMA } from '../../lib/events/run-event.schema';
import { SERIALIZATION_IS_COMPILED, serializeRunEvent, serializeRunEventInterpreted } from '../../lib/events/run-event.serializer';
import { VALIDATION_IS_COMPILED, sanitizeRunEvent, sanitizeRunEventInterpreted } from '../../lib/events/run-event.validator';

const LIMIT = 64 * 1024;
const text = fc.string({ maxLength: 12 });
const anyValue = fc.oneof(
  text,
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  fc.array(text, { maxLength: 3 }),
  fc.jsonValue({ maxDepth: 2 }),
);

/** A right value for each standard field (and an extra field). */
const right = {
  eventId: fc.uuid(),
  taskId: fc.string({ minLength: 1, maxLength: 8 }),
  timestamp: fc.integer({ min: 0, max: 2e12 }),
  guidanceHash: text,
  toolsUsed: fc.array(text, { maxLength: 3 }),
  diffSummary: fc.record({ linesAdded: fc.nat(), linesRemoved: fc.nat(), filesChanged: fc.nat() }),
  testResults: fc.record({ ran: fc.boolean(), passed: fc.nat() }, { requiredKeys: ['ran'] }),
  violations: fc.array(
    fc.record(
      { ruleId: text, description: text, severity: fc.constantFrom('low', 'high'), location: text },
      { requiredKeys: ['ruleId', 'description', 'severity'] },
    ),
    { maxLength: 2 },
  ),
  outcomeAccepted: fc.oneof(fc.boolean(), fc.constant(null)),
  intent: fc.constantFrom('feature', 'docs'),
  sessionId: text,
  clarifyingQuestions: fc.nat(),
  extra: fc.jsonValue({ maxDepth: 2 }),
};

/** Valid inputs: any of the fields, each with a right value. */
const validInput = fc.record(right, { requiredKeys: ['taskId', 'timestamp'] });

/** Inputs with every field sometimes right, sometimes any other value. */
const input = fc.record(
  Object.fromEntries(Object.entries(right).map(([name, arbitrary]) => [name, fc.oneof(arbitrary as fc.Arbitrary<unknown>, anyValue)])),
  { requiredKeys: [] },
);

function outcome(validate: () => unknown): unknown {
  try {
    return { event: validate() };
  } catch (err) {
    if (!(err instanceof LedgerValidationError)) throw err;
    return { field: err.field, message: err.message };
  }
}

describe('RUN_EVENT_SCHEMA drives validation, defaults and serialisation', () => {
  it('is the list of fields, in the order every validated event and createEvent have them', () => {
    expect(RUN_EVENT_FIELDS).toEqual(Object.keys(RUN_EVENT_SCHEMA));
    const always = Object.entries(RUN_EVENT_SCHEMA)
      .filter(([, spec]) => spec.presence !== 'optional')
      .map(([name]) => name);
    expect(Object.keys(sanitizeRunEvent({ taskId: 't', timestamp: 1 }))).toEqual(always);
    expect(Object.keys(new RunLedger().createEvent('t'))).toEqual(always);
    expect(Object.keys(sanitizeRunEvent({ taskId: 't', timestamp: 1, sessionId: 's', dependenciesAdded: [], clarifyingQuestions: 1 }))).toEqual(
      RUN_EVENT_FIELDS,
    );
    // Every missing field gets the same default in both places.
    const { eventId: _a, timestamp: _b, ...defaults } = sanitizeRunEvent({ taskId: 't', timestamp: 1 });
    const { eventId: _c, timestamp: _d, ...created } = new RunLedger().createEvent('t');
    expect(created).toEqual(defaults);
  });

  it('the compiled validator and the field-by-field loop agree on every input (event or error)', () => {
    expect(VALIDATION_IS_COMPILED).toBe(true);
    fc.assert(
      fc.property(input, fc.boolean(), (value, freshId) => {
        const compiled = outcome(() => sanitizeRunEvent(value, LIMIT, freshId));
        const interpreted = outcome(() => sanitizeRunEventInterpreted(value, LIMIT, freshId));
        if (freshId || (value as { eventId?: unknown }).eventId === undefined) {
          // Fresh ids differ by nature: compare the rest.
          for (const o of [compiled, interpreted] as { event?: { eventId?: string } }[]) if (o.event) o.event.eventId = 'fresh';
        }
        expect(interpreted).toEqual(compiled);
        if ((compiled as { event?: unknown }).event)
          expect(Object.keys((interpreted as { event: object }).event)).toEqual(Object.keys((compiled as { event: object }).event));
      }),
      { numRuns: 2_000 },
    );
  });

  it('the compiled serializer and the field-by-field loop write the same line, which is JSON.stringify of the event', () => {
    expect(SERIALIZATION_IS_COMPILED).toBe(true);
    let checked = 0;
    fc.assert(
      fc.property(validInput, (value) => {
        const validated = outcome(() => sanitizeRunEvent(value, LIMIT)) as { event?: Parameters<typeof serializeRunEvent>[0] };
        fc.pre(validated.event !== undefined);
        const line = serializeRunEvent(validated.event!, LIMIT);
        expect(serializeRunEventInterpreted(validated.event!)).toBe(line);
        expect(line).toBe(JSON.stringify(validated.event));
        checked++;
      }),
      { numRuns: 2_000 },
    );
    expect(checked).toBeGreaterThan(100);
  });

  it('where code generation is forbidden, the ledger runs on the loops and writes the same lines', () => {
    const script = `
      const { RunLedger } = require('./dist');
      const { VALIDATION_IS_COMPILED } = require('./dist/events/run-event.validator');
      const { SERIALIZATION_IS_COMPILED, serializeRunEvent } = require('./dist/events/run-event.serializer');
      const ledger = new RunLedger();
      const e = ledger.logEvent({ eventId: 'ignored', taskId: 't', timestamp: 5, toolsUsed: ['a'], sessionId: 's', extra: { n: [1, 'x'] } });
      e.eventId = 'fixed';
      process.stdout.write(JSON.stringify({ compiled: VALIDATION_IS_COMPILED || SERIALIZATION_IS_COMPILED, line: serializeRunEvent(e, 1 << 20) }));`;
    const run = (flags: string[]) => {
      const result = spawnSync(process.execPath, [...flags, '-e', script], { cwd: join(__dirname, '..', '..'), encoding: 'utf8' });
      expect(result.stderr).toBe('');
      return JSON.parse(result.stdout) as { compiled: boolean; line: string };
    };
    const normal = run([]);
    const forbidden = run(['--disallow-code-generation-from-strings']);
    expect(normal.compiled).toBe(true);
    expect(forbidden.compiled).toBe(false);
    expect(forbidden.line).toBe(normal.line);
    expect(JSON.parse(normal.line)).toMatchObject({ eventId: 'fixed', taskId: 't', toolsUsed: ['a'], extra: { n: [1, 'x'] } });
  });
});
