/**
 * PostgreSQL against data it refuses or did not write: an event the server
 * refuses fails alone and is kept in the dead-letter table while every other
 * event is written; rows written by another tool are validated on read;
 * stats answer while the server is down; the copy command refuses a missing source.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Pool } from 'pg';
import { LedgerEventRefusedError, LedgerWriteError, PostgresEventStore, RunEventInput, createPersistentLedger } from '../../lib';
import { CapturingLogger } from '../helpers/capturing-logger';
import { startEmbeddedPostgres, uniqueSchema, usePostgres } from '../helpers/postgres';
import { eventWithDefaults, runEventInput, violation } from '../helpers/run-events';
import { makeTempDir, removeTempDirs } from '../helpers/temp-dir';

const CLI = join(__dirname, '..', '..', 'dist', 'cli', 'ndjson-to-postgres.js');

describe('PostgreSQL store and bad data', () => {
  const server = usePostgres();
  let pool: Pool;
  beforeAll(() => {
    pool = new Pool({ connectionString: server().connectionString });
    // The server may shut down (afterAll of usePostgres) before this pool ends.
    pool.on('error', () => undefined);
  });
  afterAll(async () => {
    await pool.end();
    removeTempDirs();
  });

  function newStore(schema: string, logger = new CapturingLogger()) {
    return new PostgresEventStore({ connectionString: server().connectionString, schema, logger });
  }

  it('an event the server refuses fails alone: its flush rejects naming it, it is kept in <table>_rejected, every other event is written', async () => {
    const schema = uniqueSchema('poison');
    const logger = new CapturingLogger();
    const store = newStore(schema, logger);
    await store.open();
    // A constraint of the application's DBA: the server refuses such rows (SQLSTATE 23514), which no retry can cure.
    await pool.query(`ALTER TABLE "${schema}".ledger_events ADD CONSTRAINT no_poison CHECK (task_id <> 'poison')`);
    const ledger = createPersistentLedger({ store, compactIntervalMs: 0, logger });
    await ledger.init();

    const before = Array.from({ length: 300 }, (_, i) => ledger.logEvent(runEventInput({ taskId: `t${i % 7}`, timestamp: i })));
    const poison = ledger.logEvent(runEventInput({ taskId: 'poison', timestamp: 300 }));
    const after = Array.from({ length: 200 }, (_, i) => ledger.logEvent(runEventInput({ taskId: `t${i % 7}`, timestamp: 301 + i })));
    const error = await ledger.flush().catch((e) => e);
    expect(error).toBeInstanceOf(LedgerEventRefusedError);
    expect(error.eventIds).toEqual([poison.eventId]);
    expect(error.cause).toMatchObject({ code: '23514' });
    expect(error.message).toContain(`"${schema}"."ledger_events_rejected"`);

    // Every other event is stored, in order; the queue is not blocked.
    const stored = await newStore(schema).readAll();
    expect(stored.map((e) => e.eventId)).toEqual([...before, ...after].map((e) => e.eventId));
    const later = ledger.logEvent(runEventInput({ taskId: 'later', timestamp: 1_000 }));
    await expect(ledger.flush()).resolves.toBeUndefined();
    expect((await newStore(schema).readAll()).at(-1)).toEqual(later);

    // Kept where nothing is lost, logged with its id, counted, and left out of memory.
    const { rows } = await pool.query(`SELECT event_id, sqlstate, error, event FROM "${schema}".ledger_events_rejected`);
    expect(rows).toEqual([
      { event_id: poison.eventId, sqlstate: '23514', error: expect.stringContaining('no_poison'), event: JSON.stringify(poison) },
    ]);
    expect(logger.messages('error').join('\n')).toContain(`Event ${poison.eventId} (task poison) was refused by PostgreSQL (23514`);
    const stats = await ledger.getStorageStats();
    expect(stats).toMatchObject({ refusedEvents: 1, eventCount: 501, pendingEvents: 0, lastWriteOk: true, countsStale: false });
    expect(ledger.getEvents().map((e) => e.eventId)).not.toContain(poison.eventId);
    expect(ledger.eventCount).toBe(501);
    await ledger.destroy();
  });

  it('accepts exactly what the NDJSON store accepts: NUL in any non-id string round-trips losslessly', async () => {
    const schema = uniqueSchema('nul');
    const ledger = createPersistentLedger({ store: newStore(schema), compactIntervalMs: 0, logger: new CapturingLogger() });
    await ledger.init();
    const input: RunEventInput & { note: object } = {
      ...runEventInput({ toolsUsed: ['a\u0000b'], sessionId: '\u0000' }),
      note: { 'k\u0000': ['v\u0000'] },
    };
    const stored = ledger.logEvent(input);
    await ledger.flush();
    expect(await newStore(schema).readAll()).toEqual([stored]);
    await ledger.destroy();
  });

  it('a batch retried after a lost acknowledgement is stored once: ids already in the table are skipped, the rest written in order', async () => {
    const schema = uniqueSchema('retry');
    // Ids and task ids with every character COPY's text format escapes.
    const events = Array.from({ length: 50 }, (_, i) => ({
      ...runEventInput({ taskId: `task\\${i % 3}\t`, timestamp: i }),
      eventId: `id\t${i}\\n\n\r`,
      note: 'a\\b\tc\nd',
    }));
    const first = newStore(schema);
    first.enqueue(events.slice(0, 30));
    await first.flush();
    // A second writer that never saw the first batch acknowledged sends it again, with new events.
    const retry = newStore(schema);
    retry.enqueue(events);
    await expect(retry.flush()).resolves.toBeUndefined();
    expect(retry.rowsInserted).toBe(20);
    expect(await newStore(schema).readAll()).toEqual(events);
    const { rows } = await pool.query(
      `SELECT count(*)::int AS n, count(DISTINCT tx)::int AS transactions FROM "${schema}".ledger_events WHERE position > 30`,
    );
    expect(rows[0]).toEqual({ n: 20, transactions: 1 });
    await Promise.all([first.close(), retry.close()]);
  });

  it('validates rows it did not write: incomplete ones get the defaults, invalid ones are skipped and counted, queries never throw', async () => {
    const schema = uniqueSchema('foreign');
    const store = newStore(schema);
    await store.open();
    const insert = (eventId: string, taskId: string, event: string) =>
      pool.query(`INSERT INTO "${schema}".ledger_events (event_id, task_id, ts, event) VALUES ($1, $2, 1, $3::json)`, [eventId, taskId, event]);
    await insert('by-hand', 'm', '{"taskId":"m","timestamp":1}');
    await insert('not-an-event', 'x', '{"taskId":5,"timestamp":1}');
    await insert('bad-violation', 'x', '{"taskId":"x","timestamp":2,"violations":[{"ruleId":"r"}]}');
    await insert('a-number', 'x', '42');
    const logger = new CapturingLogger();
    const ledger = createPersistentLedger({ store: newStore(schema, logger), compactIntervalMs: 0, logger });
    await ledger.init();
    // The row's id, as the event has none; every missing field at its default.
    expect(ledger.getEvents()).toEqual([eventWithDefaults({ eventId: 'by-hand', taskId: 'm', timestamp: 1 })]);
    ledger.logEvent(runEventInput({ violations: [violation('no-any')], reworkLines: 4 }));
    expect(ledger.computeMetrics()).toMatchObject({ taskCount: 2, violationRate: 5 });
    expect(ledger.rankViolations()).toEqual([{ ruleId: 'no-any', frequency: 1, cost: 4, score: 4 }]);
    expect(await Promise.all(ledger.getEvents().map((e) => ledger.evaluate(e)))).toHaveLength(2);
    expect((await ledger.getStorageStats()).corruptLines).toBe(3);
    expect(logger.messages('warn').join('\n')).toMatch(/3 row\(s\) of .* are not valid run events/);
    // The same validation on every read path.
    expect((await store.readRange(0, 10)).map((e) => e.eventId)).toEqual(['by-hand']);
    await ledger.destroy();
    await store.close();
  });

  it('the copy command refuses a source that holds no store, creating nothing; -h prints what it does to stdout', () => {
    const missing = join(makeTempDir(), 'no-such-store');
    const schema = uniqueSchema('copy_missing');
    const result = spawnSync(process.execPath, [CLI, '--from', missing, '--to', server().connectionString, '--schema', schema], { encoding: 'utf8' });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`No NDJSON store at ${missing}`);
    expect(existsSync(missing)).toBe(false);
    return pool.query('SELECT 1 FROM information_schema.schemata WHERE schema_name = $1', [schema]).then(({ rows }) => {
      expect(rows).toHaveLength(0);
      for (const flag of ['-h', '--help']) {
        const help = spawnSync(process.execPath, [CLI, flag], { encoding: 'utf8' });
        expect(help.status).toBe(0);
        expect(help.stderr).toBe('');
        expect(help.stdout).toMatch(/copy an NDJSON ledger store into PostgreSQL/);
        expect(help.stdout).toMatch(/Stop the app that writes the NDJSON store\s+first/);
        expect(help.stdout).toMatch(/Exit status/);
      }
    });
  });
});

describe('PostgreSQL stats while the server is down', () => {
  const server = usePostgres(startEmbeddedPostgres);

  it('answer from local state: pending events, the last write error, and the last known counts marked stale', async () => {
    const schema = uniqueSchema('outage');
    const store = new PostgresEventStore({ connectionString: server().connectionString, schema, autoFlush: false, logger: new CapturingLogger() });
    const ledger = createPersistentLedger({ store, compactIntervalMs: 0, logger: new CapturingLogger() });
    await ledger.init();
    for (let i = 0; i < 3; i++) ledger.logEvent(runEventInput({ timestamp: 10 + i }));
    await ledger.flush();
    expect(await ledger.getStorageStats()).toMatchObject({ eventCount: 3, oldestEvent: 10, newestEvent: 12, countsStale: false });

    await server().stop();
    try {
      for (let i = 0; i < 4; i++) ledger.logEvent(runEventInput({ timestamp: 20 + i }));
      const failure = await ledger.flush().catch((e) => e);
      expect(failure).toBeInstanceOf(LedgerWriteError);
      expect(failure.message).toContain('(4 event(s) kept in memory and retried)');
      const stats = await ledger.getStorageStats();
      expect(stats).toEqual({
        driver: 'postgres',
        eventCount: 3,
        storageSizeBytes: expect.any(Number),
        oldestEvent: 10,
        newestEvent: 12,
        refusedEvents: 0,
        corruptLines: 0,
        pendingEvents: 4,
        lastWriteOk: false,
        lastWriteError: failure.cause.message,
        countsStale: true,
        lockLost: false,
      });
    } finally {
      await server().start();
    }
    await ledger.flush();
    expect(await ledger.getStorageStats()).toMatchObject({ eventCount: 7, pendingEvents: 0, lastWriteOk: true, countsStale: false });
    await ledger.destroy();
  });
});
