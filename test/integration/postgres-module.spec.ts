import { spawnSync } from 'node:child_process';
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { Test } from '@nestjs/testing';
import { Pool } from 'pg';
import { EventStore, LedgerConfigError, LedgerModule, PersistentLedger, PostgresEventStore, createPersistentLedger } from '../../lib';
import { defaultCompactionLeaseMs } from '../../lib/module/ledger.providers';
import { CapturingLogger } from '../helpers/capturing-logger';
import { uniqueSchema, usePostgres } from '../helpers/postgres';
import { runEventInput } from '../helpers/run-events';
import { makeTempDir, removeTempDirs } from '../helpers/temp-dir';

const CLI = join(__dirname, '..', '..', 'dist', 'cli', 'ndjson-to-postgres.js');

async function boot(options: Parameters<typeof LedgerModule.forRootAsync>[0]) {
  const moduleRef = await Test.createTestingModule({ imports: [LedgerModule.forRootAsync(options)] })
    .setLogger(new CapturingLogger())
    .compile();
  return moduleRef.createNestApplication({ logger: new CapturingLogger() }).init();
}

describe('LedgerModule on PostgreSQL', () => {
  const server = usePostgres();
  afterAll(removeTempDirs);

  it('forRootAsync with storage: postgres persists through the same API and loads on the next start', async () => {
    const schema = uniqueSchema('module');
    const options = {
      useFactory: () => ({ storage: { type: 'postgres' as const, connectionString: server().connectionString, schema }, compaction: false as const }),
    };
    const app = await boot(options);
    expect(app.get(EventStore)).toBeInstanceOf(PostgresEventStore);
    const ledger = app.get(PersistentLedger);
    const logged = ledger.logEvent(runEventInput({ taskId: 'pg-module' }));
    await ledger.flush();
    expect(await ledger.getStorageStats()).toMatchObject({ driver: 'postgres', eventCount: 1, lastWriteOk: true, pendingEvents: 0 });
    await app.close();

    const again = await boot(options);
    expect(again.get(PersistentLedger).getEvents()).toEqual([logged]);
    await again.close();
  });

  it('migrates once when several replicas open a fresh schema at the same moment', async () => {
    const schema = uniqueSchema('migrate');
    const stores = Array.from(
      { length: 6 },
      () => new PostgresEventStore({ connectionString: server().connectionString, schema, logger: new CapturingLogger() }),
    );
    await Promise.all(stores.map((store) => store.open()));
    const pool = new Pool({ connectionString: server().connectionString });
    const { rows } = await pool.query(`SELECT version FROM "${schema}"."ledger_events_schema"`);
    // Each migration ran once (version 1: the events and lease tables; 2: the dead-letter table; 3: the feed; 4: the notify trigger).
    expect(rows).toEqual([{ version: 1 }, { version: 2 }, { version: 3 }, { version: 4 }]);
    await pool.end();
    await Promise.all(stores.map((store) => store.close()));
  });

  it('logs one line when it creates a fresh table at the current schema version, not one per migration', async () => {
    const schema = uniqueSchema('fresh');
    const logger = new CapturingLogger();
    const store = new PostgresEventStore({ connectionString: server().connectionString, schema, logger });
    await store.open();
    await store.close();
    expect(logger.messages('log').filter((m) => /schema version/.test(m))).toEqual([
      `Created "${schema}"."ledger_events" at ledger schema version 4`,
    ]);
  });

  it('upgrades a table of schema version 3: the notify trigger wakes tails again and task reads use the new index', async () => {
    const schema = uniqueSchema('upgrade');
    const pool = new Pool({ connectionString: server().connectionString });
    const first = new PostgresEventStore({ connectionString: server().connectionString, schema, logger: new CapturingLogger() });
    await first.open();
    await first.close();
    // Back to what version 3 left: no trigger, the task index on (task_id, position).
    await pool.query(`DROP TRIGGER ledger_events_notify ON "${schema}".ledger_events; DROP FUNCTION "${schema}".ledger_events_notify();
      DROP INDEX "${schema}".ledger_events_task_idx; CREATE INDEX ledger_events_task_idx ON "${schema}".ledger_events (task_id, position);
      DELETE FROM "${schema}".ledger_events_schema WHERE version = 4`);
    const logger = new CapturingLogger();
    // A tail that polls only once a minute: a prompt delivery needs the notification of the trigger.
    const writer = new PostgresEventStore({ connectionString: server().connectionString, schema, logger, pollIntervalMs: 60_000 });
    const stop = new AbortController();
    const tail = writer.tail({ signal: stop.signal })[Symbol.asyncIterator]();
    expect((await tail.next()).value).toMatchObject({ events: [], caughtUp: true });
    expect(logger.messages('log').filter((m) => /schema version/.test(m))).toEqual([
      `Migrated "${schema}"."ledger_events" to ledger schema version 4`,
    ]);
    const event = { ...runEventInput({ taskId: 'upgraded' }), eventId: 'after-upgrade' };
    writer.enqueue([event]);
    await writer.flush();
    const started = Date.now();
    expect((await tail.next()).value.events.map((e: { eventId: string }) => e.eventId)).toEqual(['after-upgrade']);
    expect(Date.now() - started).toBeLessThan(30_000);
    const { rows } = await pool.query(`SELECT indexdef FROM pg_indexes WHERE schemaname = $1 AND indexname = 'ledger_events_task_idx'`, [schema]);
    expect(rows[0].indexdef).toContain('(task_id, tx, "position")');
    stop.abort();
    await tail.return?.();
    await pool.end();
    await writer.close();
  });

  it('uses an existing pg.Pool without ending it', async () => {
    const pool = new Pool({ connectionString: server().connectionString });
    const app = await boot({
      useFactory: () => ({ storage: { type: 'postgres' as const, pool, schema: uniqueSchema('pool') }, compaction: false as const }),
    });
    app.get(PersistentLedger).logEvent(runEventInput());
    await app.close();
    const { rows } = await pool.query('SELECT 1 AS one');
    expect(rows).toEqual([{ one: 1 }]);
    await pool.end();
  });

  it.each([
    [{ type: 'postgres' }, 'storage.connectionString'],
    [{ type: 'postgres', connectionString: 'postgres://x', schema: 'bad-name; DROP TABLE x' }, 'storage.schema'],
    [{ type: 'postgres', connectionString: 'postgres://x', table: '1starts_with_digit' }, 'storage.table'],
    [{ type: 'mysql' }, 'storage'],
  ])('refuses storage %j at startup, naming %s', async (storage, option) => {
    const error = await boot({ useFactory: () => ({ storage: storage as never, compaction: false as const }) }).catch((e) => e);
    expect(error).toBeInstanceOf(LedgerConfigError);
    expect(error.option).toBe(option);
  });

  it('the ndjson-to-postgres command copies a store (also one the original wrote), in order, and can run again without duplicating', async () => {
    const dir = makeTempDir();
    cpSync(join(__dirname, '..', 'fixtures', 'original-store'), dir, { recursive: true });
    const ledger = createPersistentLedger({ storagePath: dir, compactIntervalMs: 0, logger: new CapturingLogger() });
    await ledger.init();
    for (let i = 0; i < 500; i++) ledger.logEvent(runEventInput({ timestamp: i }));
    await ledger.flush();
    const expected = ledger.getEvents();

    const schema = uniqueSchema('copy');
    const args = [CLI, '--from', dir, '--to', server().connectionString, '--schema', schema];
    const locked = spawnSync(process.execPath, args, { encoding: 'utf8' });
    expect(locked.status).toBe(1);
    expect(locked.stderr).toMatch(/LedgerLockedError/);
    await ledger.destroy();

    for (let run = 0; run < 2; run++) {
      const result = spawnSync(process.execPath, args, { encoding: 'utf8' });
      expect(result.stderr).not.toMatch(/Error/);
      expect(result.status).toBe(0);
      // A re-run says that nothing was new.
      expect(result.stdout).toContain('Read 512 event(s)');
      expect(result.stdout).toContain(run === 0 ? 'copied 512 new;' : 'copied 0 new, 512 already in the table;');
      expect(result.stdout).toContain('the table now holds 512');
    }
    const store = new PostgresEventStore({ connectionString: server().connectionString, schema, logger: new CapturingLogger() });
    expect(await store.readAll()).toEqual(expected);
    await store.close();
  });

  it('without pg installed, choosing postgres fails at startup saying what to install', () => {
    const script = `
      const { Test } = require('@nestjs/testing');
      const { LedgerModule } = require('./dist');
      Test.createTestingModule({ imports: [LedgerModule.forRoot({ storage: { type: 'postgres', connectionString: 'postgres://x' }, compaction: false })] })
        .compile()
        .then(() => process.exit(0), (err) => { console.error(err.name + ': ' + err.message); process.exit(3); });`;
    const result = spawnSync(process.execPath, ['-r', join(__dirname, '..', 'fixtures', 'without-pg.js'), '-e', script], {
      cwd: join(__dirname, '..', '..'),
      encoding: 'utf8',
    });
    expect(result.status).toBe(3);
    expect(result.stderr).toContain(
      `LedgerConfigError: Invalid nestjs-ledger option "storage": the PostgreSQL storage needs the 'pg' package: run npm install pg`,
    );
  });

  it('derives the compaction lease from the schedule: half the time between ticks, at most 30 s', () => {
    expect(defaultCompactionLeaseMs({ cron: '*/2 * * * * *' })).toBe(1_000);
    expect(defaultCompactionLeaseMs({ cron: '0 * * * *' })).toBe(30_000);
    expect(defaultCompactionLeaseMs({ intervalMs: 10_000 })).toBe(5_000);
    expect(defaultCompactionLeaseMs(false)).toBe(30_000);
  });
});
