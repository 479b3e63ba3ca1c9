/**
 * Promise 3: bad input gets a clear error and harms nothing.
 * fast-check generates malformed events interleaved with valid ones: every bad
 * one throws LedgerValidationError naming the field, every valid one is stored,
 * and memory and disk agree afterwards. The sample app answers 400, never 500.
 */
import fc from 'fast-check';
import {
  EventStore,
  FileEventStore,
  LedgerValidationError,
  MAX_ID_BYTES,
  PersistentLedger,
  PostgresEventStore,
  RunEventInput,
  createPersistentLedger,
} from '../../lib';
import { uniqueSchema, usePostgres } from '../helpers/postgres';
import { CapturingLogger } from '../helpers/capturing-logger';
import { RunningSample, startSampleApp } from '../helpers/sample-app';
import { makeTempDir, removeTempDirs } from '../helpers/temp-dir';

const MAX_EVENT_BYTES = 4096;
const RUNS = 100;

/** `via: 'import'` feeds the event to importEvents (keeping its eventId) instead of logEvent. */
type Input =
  { kind: 'valid'; input: Record<string, unknown>; via?: 'import' } | { kind: 'bad'; input: unknown; field: string; label: string; via?: 'import' };

const text = fc.string({ unit: 'grapheme', maxLength: 24 });
const count = fc.nat({ max: 10_000 });

const validEvent = fc.record(
  {
    taskId: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 16 }),
    timestamp: fc.integer({ min: 0, max: 4_102_444_800_000 }),
    guidanceHash: text,
    toolsUsed: fc.array(text, { maxLength: 4 }),
    filesTouched: fc.array(text, { maxLength: 4 }),
    diffSummary: fc.record({ linesAdded: count, linesRemoved: count, filesChanged: count }),
    testResults: fc.record({ ran: fc.boolean(), passed: count, failed: count, skipped: count }),
    violations: fc.array(
      fc.record({
        ruleId: text,
        description: text,
        severity: fc.constantFrom('critical', 'high', 'medium', 'low', 'info'),
        autoCorrected: fc.boolean(),
      }),
      { maxLength: 3 },
    ),
    outcomeAccepted: fc.constantFrom(true, false, null),
    reworkLines: count,
    intent: fc.constantFrom('bug-fix', 'feature', 'refactor', 'security', 'docs', 'general'),
    durationMs: fc.integer({ min: 0, max: 1e7 }),
    sessionId: text,
    // A valid event: fast-check can generate a "__proto__" key, which the ledger refuses; each bad input below has exactly one defect.
    extra: fc.jsonValue({ maxDepth: 3 }).filter((value) => !JSON.stringify(value).includes('"__proto__"')),
  },
  { requiredKeys: ['taskId', 'timestamp'] },
) as fc.Arbitrary<Record<string, unknown>>;

/** A wrong value for each standard field, and the path the error must name. */
const wrongTypes: [string, unknown, string][] = [
  ['taskId', 42, 'taskId'],
  ['taskId', null, 'taskId'],
  ['taskId', ['t'], 'taskId'],
  ['timestamp', '1700000000000', 'timestamp'],
  ['timestamp', null, 'timestamp'],
  ['guidanceHash', 7, 'guidanceHash'],
  ['retrievedRuleIds', 'r1', 'retrievedRuleIds'],
  ['toolsUsed', ['ok', 3], 'toolsUsed[1]'],
  ['filesTouched', { a: 1 }, 'filesTouched'],
  ['diffSummary', 'big', 'diffSummary'],
  ['diffSummary', { linesAdded: '1', linesRemoved: 0, filesChanged: 0 }, 'diffSummary.linesAdded'],
  ['testResults', { ran: 'yes', passed: 1, failed: 0, skipped: 0 }, 'testResults.ran'],
  ['testResults', { ran: true, passed: -1, failed: 0, skipped: 0 }, 'testResults.passed'],
  ['violations', {}, 'violations'],
  ['violations', [{ ruleId: 1, description: 'd', severity: 'low', autoCorrected: false }], 'violations[0].ruleId'],
  ['violations', [{ ruleId: 'r', description: 'd', severity: 'fatal', autoCorrected: false }], 'violations[0].severity'],
  ['outcomeAccepted', 'maybe', 'outcomeAccepted'],
  ['reworkLines', '12', 'reworkLines'],
  ['intent', 'vacation', 'intent'],
  ['durationMs', true, 'durationMs'],
  ['sessionId', 9, 'sessionId'],
  ['dependenciesAdded', 'left-pad', 'dependenciesAdded'],
  ['clarifyingQuestions', 'two', 'clarifyingQuestions'],
];

function withField(base: Record<string, unknown>, key: string, value: unknown): Record<string, unknown> {
  return { ...base, [key]: value };
}

const badEvent: fc.Arbitrary<Input> = fc.oneof(
  {
    arbitrary: fc
      .tuple(validEvent, fc.constantFrom(...wrongTypes))
      .map(([e, [key, value, field]]) => ({ kind: 'bad', input: withField(e, key, value), field, label: `wrong type in ${key}` }) as Input),
    weight: 10,
  },
  fc
    .tuple(validEvent, fc.constantFrom('reworkLines', 'durationMs', 'timestamp', 'extra'))
    .map(([e, key]) => ({ kind: 'bad', input: withField(e, key, 10n), field: key, label: 'BigInt' }) as Input),
  fc
    .tuple(validEvent, fc.constantFrom(NaN, Infinity, -Infinity))
    .map(([e, ts]) => ({ kind: 'bad', input: withField(e, 'timestamp', ts), field: 'timestamp', label: 'non-finite timestamp' }) as Input),
  // Beyond what a Date can hold (nanoseconds, say): refused by both stores, never stored to break a display.
  fc
    .tuple(validEvent, fc.constantFrom(1.7e18, 8.64e15 + 1, -8.64e15 - 1))
    .map(([e, ts]) => ({ kind: 'bad', input: withField(e, 'timestamp', ts), field: 'timestamp', label: 'timestamp beyond a Date' }) as Input),
  // A misspelt standard field is refused (unknownFields: 'refuse-typos'), not stored as an extra field.
  fc
    .tuple(validEvent, fc.constantFrom('toolUsed', 'filesTouch', 'sessionID'))
    .map(([e, key]) => ({ kind: 'bad', input: withField(e, key, ['x']), field: key, label: 'misspelt field' }) as Input),
  validEvent.map((e) => {
    const { taskId: _omit, ...rest } = e;
    return { kind: 'bad', input: rest, field: 'taskId', label: 'missing taskId' } as Input;
  }),
  validEvent.map((e) => {
    const meta: Record<string, unknown> = { depth: 1 };
    meta.self = meta;
    return { kind: 'bad', input: withField(e, 'meta', meta), field: 'meta.self', label: 'cycle' } as Input;
  }),
  validEvent.map((e) => ({ kind: 'bad', input: withField(e, 'onDone', () => undefined), field: 'onDone', label: 'function' }) as Input),
  validEvent.map((e) => ({ kind: 'bad', input: withField(e, 'tag', Symbol('t')), field: 'tag', label: 'symbol value' }) as Input),
  validEvent.map(
    (e) => ({ kind: 'bad', input: { ...e, ...JSON.parse('{"__proto__":{"admin":true}}') }, field: '__proto__', label: '__proto__ key' }) as Input,
  ),
  fc
    .tuple(validEvent, fc.constantFrom('\uD800', '\uDFFF', 'a\uDBFFz'))
    .map(([e, lone]) => ({ kind: 'bad', input: withField(e, 'sessionId', `s${lone}`), field: 'sessionId', label: 'lone surrogate' }) as Input),
  fc
    .tuple(validEvent, fc.constantFrom('\uD83D'))
    .map(
      ([e, lone]) =>
        ({ kind: 'bad', input: withField(e, 'toolsUsed', ['ok', lone]), field: 'toolsUsed[1]', label: 'lone surrogate in a list' }) as Input,
    ),
  validEvent.map(
    (e) =>
      ({
        kind: 'bad',
        input: withField(e, 'guidanceHash', 'h'.repeat(MAX_EVENT_BYTES + 1)),
        field: 'guidanceHash',
        label: 'oversized string',
      }) as Input,
  ),
  validEvent.map(
    (e) =>
      ({
        kind: 'bad',
        input: withField(
          e,
          'chunks',
          Array.from({ length: 5 }, () => 'c'.repeat(1000)),
        ),
        field: 'event',
        label: 'oversized event',
      }) as Input,
  ),
  fc
    .constantFrom<unknown>(null, 7, 'event', [], new Map())
    .map((input) => ({ kind: 'bad', input, field: 'event', label: 'not a plain object' }) as Input),
  // What the PostgreSQL store cannot hold in an id is refused by both stores.
  fc
    .tuple(validEvent, fc.constantFrom('\u0000', 'a\u0000', '\u0000b\u0000'))
    .map(([e, id]) => ({ kind: 'bad', input: withField(e, 'taskId', id), field: 'taskId', label: 'NUL in taskId' }) as Input),
  validEvent.map(
    (e) =>
      ({
        kind: 'bad',
        input: withField(e, 'taskId', 'ü'.repeat(MAX_ID_BYTES / 2 + 1)),
        field: 'taskId',
        label: 'taskId above the id limit',
      }) as Input,
  ),
  validEvent.map(
    (e) =>
      ({
        kind: 'bad',
        input: withField(e, 'eventId', 'ev\u0000'),
        field: '[0].eventId',
        label: 'NUL in an imported eventId',
        via: 'import',
      }) as Input,
  ),
);

/** Strings anywhere but in the ids may hold NUL: both stores keep them losslessly. */
const validWithNul = validEvent.map((e) => ({ kind: 'valid', input: { ...e, toolsUsed: ['a\u0000b'], note: { 'k\u0000': 'v\u0000' } } }) as Input);
/** Imported events keep their ids (unique per sequence). */
let importedIds = 0;
const validImport = validEvent.map((e) => ({ kind: 'valid', input: { ...e, eventId: `imported-${importedIds++}` }, via: 'import' }) as Input);

/** Symbol-keyed properties are not JSON data: they are left out (as JSON.stringify does), and the event is stored. */
const validWithSymbolKey = validEvent.map((e) => ({ kind: 'valid', input: { ...e, [Symbol('k')]: 1 } }) as Input);

const sequence = fc.array(
  fc.oneof(
    { arbitrary: validEvent.map((input) => ({ kind: 'valid', input }) as Input), weight: 2 },
    { arbitrary: validWithSymbolKey, weight: 1 },
    { arbitrary: validWithNul, weight: 1 },
    { arbitrary: validImport, weight: 1 },
    { arbitrary: badEvent, weight: 6 },
  ),
  { minLength: 1, maxLength: 25 },
);

/** Opens a fresh store of one driver for each generated sequence, and a second handle on the same storage to read it back. */
interface Driver {
  name: string;
  fresh(): { store: EventStore; reopen(): EventStore };
}

describe('Guarantee 3: bad input gets a clear error and harms nothing', () => {
  afterAll(removeTempDirs);
  const server = usePostgres();

  const drivers: Driver[] = [
    {
      name: 'NDJSON',
      fresh: () => {
        const dir = makeTempDir('ledger-prop-');
        const open = () => new FileEventStore({ storagePath: dir, maxEventBytes: MAX_EVENT_BYTES, logger: new CapturingLogger() });
        return { store: open(), reopen: open };
      },
    },
    {
      name: 'PostgreSQL',
      fresh: () => {
        const schema = uniqueSchema('prop');
        const open = () =>
          new PostgresEventStore({
            connectionString: server().connectionString,
            schema,
            maxEventBytes: MAX_EVENT_BYTES,
            logger: new CapturingLogger(),
          });
        return { store: open(), reopen: open };
      },
    },
  ];

  it.each(drivers.map((d) => [d.name, d] as const))(
    `logEvent and importEvents on ${RUNS} generated sequences of valid and malformed events: %s store`,
    async (_name, driver) => {
      const tally = { sequences: 0, valid: 0, rejected: 0, byKind: {} as Record<string, number> };
      await fc.assert(
        fc.asyncProperty(sequence, async (inputs) => {
          const { store, reopen } = driver.fresh();
          const ledger: PersistentLedger = createPersistentLedger({
            store,
            maxEventBytes: MAX_EVENT_BYTES,
            compactIntervalMs: 0,
            logger: new CapturingLogger(),
          });
          await ledger.init();
          const give = (item: Input) => (item.via === 'import' ? ledger.importEvents([item.input]) : ledger.logEvent(item.input as RunEventInput));
          try {
            let accepted = 0;
            for (const item of inputs) {
              if (item.kind === 'valid') {
                give(item);
                accepted++;
                tally.valid++;
                continue;
              }
              let thrown: unknown = null;
              try {
                give(item);
              } catch (err) {
                thrown = err;
              }
              expect(thrown).toBeInstanceOf(LedgerValidationError);
              expect((thrown as LedgerValidationError).field).toBe(item.field);
              expect((thrown as LedgerValidationError).message).toContain(`"${item.field}"`);
              expect(ledger.eventCount).toBe(accepted);
              tally.rejected++;
              tally.byKind[item.label] = (tally.byKind[item.label] ?? 0) + 1;
            }
            await ledger.flush();
            const reader = reopen();
            const onDisk = await reader.readAll();
            await reader.close();
            expect(onDisk).toEqual(ledger.getEvents());
            expect(onDisk).toHaveLength(accepted);
            expect((await ledger.getStorageStats()).eventCount).toBe(accepted);
            expect(({} as Record<string, unknown>).admin).toBeUndefined();
          } finally {
            await ledger.destroy();
          }
          tally.sequences++;
        }),
        { numRuns: RUNS },
      );
      console.log(`bad-input suite (${driver.name}): ${JSON.stringify(tally)}`);
      expect(tally.rejected).toBeGreaterThan(0);
    },
    120_000,
  );

  describe('over HTTP, the sample app', () => {
    let sample: RunningSample;

    beforeAll(async () => {
      sample = await startSampleApp(makeTempDir('ledger-prop-http-'));
    });

    afterAll(async () => {
      await sample.app.close();
    });

    const post = (body: string) => sample.postRaw(body);

    it('answers 400 with the field for every JSON-representable malformed event, never 500', async () => {
      const jsonBad = fc.oneof(
        fc
          .tuple(validEvent, fc.constantFrom(...wrongTypes))
          .map(([e, [key, value, field]]) => ({ body: JSON.stringify(withField(e, key, value)), field })),
        validEvent.map((e) => ({ body: JSON.stringify({ ...e, taskId: undefined }), field: 'taskId' })),
        validEvent.map((e) => ({ body: JSON.stringify(e).replace(/^\{/, '{"__proto__":{"admin":true},'), field: '__proto__' })),
        validEvent.map((e) => ({ body: JSON.stringify(withField(e, 'sessionId', 'x\uD800')), field: 'sessionId' })),
        fc.constantFrom({ body: '[1,2]', field: 'event' }),
      );
      let requests = 0;
      await fc.assert(
        fc.asyncProperty(jsonBad, async ({ body, field }) => {
          const response = await post(body);
          requests++;
          expect(response.status).toBe(400);
          expect(response.body.field).toBe(field);
        }),
        { numRuns: 100 },
      );
      // Beyond the 4 MiB per-event limit, and malformed JSON (rejected by the body parser).
      const huge = await post(JSON.stringify({ taskId: 't', timestamp: 1, notes: 'n'.repeat(4 * 1024 * 1024 + 1) }));
      expect(huge).toMatchObject({ status: 400, body: { field: 'notes' } });
      expect((await post('{"taskId": "t", "timestamp": ')).status).toBe(400);
      console.log(`bad-input suite over HTTP: ${requests + 2} malformed requests, all answered 400`);
    }, 60_000);
  });
});
