/**
 * RUN_EVENT_SCHEMA is the one definition of the run event. The validator and the serializer
 * are written out field by field; these tests walk the schema and hold both to it: a field
 * added to the schema and not to them (checked, defaulted, written) fails here.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { LedgerValidationError, RUN_EVENT_FIELDS, RunEvent, RunLedger } from '../../lib';
import { RUN_EVENT_SCHEMA, RunEventFieldKinds, RunEventFieldSpec } from '../../lib/events/run-event.schema';
import { serializeRunEvent } from '../../lib/events/run-event.serializer';
import { restoreStoredEvent, sanitizeRunEvent } from '../../lib/events/run-event.validator';

const LIMIT = 64 * 1024;
/** For each kind of value: a right value (not its default), a wrong one, and the default of a missing one. */
const KIND_SAMPLES: { [K in keyof RunEventFieldKinds]: { right: RunEventFieldKinds[K]; wrong: unknown; missing: RunEventFieldKinds[K] | null } } = {
  id: { right: 'id-1', wrong: 7, missing: null },
  string: { right: 'text', wrong: 7, missing: '' },
  stringList: { right: ['a', 'b'], wrong: 'a', missing: [] },
  count: { right: 3, wrong: -1, missing: 0 },
  finite: { right: -2.5, wrong: 'x', missing: 0 },
  epochMs: { right: 1_700_000_000_000, wrong: 8.64e15 + 1, missing: null },
  diffSummary: {
    right: { linesAdded: 1, linesRemoved: 2, filesChanged: 3 },
    wrong: 'x',
    missing: { linesAdded: 0, linesRemoved: 0, filesChanged: 0 },
  },
  testResults: { right: { ran: true, passed: 1, failed: 2, skipped: 3 }, wrong: 'x', missing: { ran: false, passed: 0, failed: 0, skipped: 0 } },
  violations: {
    right: [{ ruleId: 'r', description: 'd', severity: 'low', autoCorrected: true, location: 'l' }],
    wrong: 'x',
    missing: [],
  },
  outcome: { right: false, wrong: 'yes', missing: null },
  intent: { right: 'docs', wrong: 'chores', missing: 'general' },
};

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
    expect(Object.keys(sanitizeRunEvent({ taskId: 't', timestamp: 1 }, LIMIT))).toEqual(always);
    expect(Object.keys(new RunLedger().createEvent('t'))).toEqual(always);
    expect(
      Object.keys(sanitizeRunEvent({ taskId: 't', timestamp: 1, sessionId: 's', dependenciesAdded: [], clarifyingQuestions: 1 }, LIMIT)),
    ).toEqual(RUN_EVENT_FIELDS);
    // Every missing field gets the same default in both places.
    const { eventId: _a, timestamp: _b, ...defaults } = sanitizeRunEvent({ taskId: 't', timestamp: 1 }, LIMIT);
    const { eventId: _c, timestamp: _d, ...created } = new RunLedger().createEvent('t');
    expect(created).toEqual(defaults);
  });

  describe.each(Object.entries(RUN_EVENT_SCHEMA) as [keyof RunEvent, RunEventFieldSpec][])('field %s', (name, spec) => {
    const sample = KIND_SAMPLES[spec.kind];
    const base = { taskId: 't', timestamp: 1 };

    it('is checked by its kind: a wrong value is refused, naming the field', () => {
      const wrong = { ...base, [name]: sample.wrong };
      expect(outcome(() => sanitizeRunEvent(wrong, LIMIT))).toMatchObject({ field: name });
      expect(restoreStoredEvent(wrong, LIMIT, () => 'stored')).toBeNull();
    });

    it('keeps a right value, and the serializer writes it in schema order', () => {
      const event = sanitizeRunEvent({ ...base, [name]: sample.right }, LIMIT);
      expect(event[name]).toEqual(sample.right);
      const line = serializeRunEvent(event, LIMIT);
      expect(line).toBe(JSON.stringify(event));
      const written = JSON.parse(line) as Record<string, unknown>;
      expect(written[name]).toEqual(sample.right);
      expect(Object.keys(written)).toEqual(RUN_EVENT_FIELDS.filter((field) => field in written));
      expect(restoreStoredEvent(written, LIMIT, () => 'stored')).toEqual(event);
    });

    it(`when missing, is treated as ${spec.presence}`, () => {
      const without: Record<string, unknown> = { ...base, eventId: 'given' };
      delete without[name];
      const missing = outcome(() => sanitizeRunEvent(without, LIMIT)) as { event?: Record<string, unknown>; field?: string };
      const created = new RunLedger().createEvent('t') as unknown as Record<string, unknown>;
      switch (spec.presence) {
        case 'required':
          expect(missing).toMatchObject({ field: name });
          break;
        case 'assigned':
          expect(missing.event?.[name]).toMatch(/^[0-9a-f-]{36}$/);
          expect(created[name]).toMatch(/^[0-9a-f-]{36}$/);
          break;
        case 'defaulted':
          expect(missing.event?.[name]).toEqual(sample.missing);
          expect(created[name]).toEqual(sample.missing);
          break;
        case 'optional':
          expect(missing.event).toBeDefined();
          expect(name in missing.event!).toBe(false);
          expect(name in created).toBe(false);
          break;
      }
    });
  });

  it('where code generation is forbidden, the ledger runs and writes the same lines', () => {
    const script = `
      const { RunLedger } = require('./dist');
      const { serializeRunEvent } = require('./dist/events/run-event.serializer');
      const ledger = new RunLedger();
      const e = ledger.logEvent({ eventId: 'ignored', taskId: 't', timestamp: 5, toolsUsed: ['a'], sessionId: 's', extra: { n: [1, 'x'] } });
      e.eventId = 'fixed';
      process.stdout.write(JSON.stringify({ line: serializeRunEvent(e, 1 << 20) }));`;
    const run = (flags: string[]) => {
      const result = spawnSync(process.execPath, [...flags, '-e', script], { cwd: join(__dirname, '..', '..'), encoding: 'utf8' });
      expect(result.stderr).toBe('');
      return JSON.parse(result.stdout) as { line: string };
    };
    const normal = run([]);
    const forbidden = run(['--disallow-code-generation-from-strings']);
    expect(forbidden.line).toBe(normal.line);
    expect(JSON.parse(normal.line)).toMatchObject({ eventId: 'fixed', taskId: 't', toolsUsed: ['a'], extra: { n: [1, 'x'] } });
  });
});
