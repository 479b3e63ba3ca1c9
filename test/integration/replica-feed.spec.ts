/**
 * Every replica answers alike: the PostgreSQL feed keeps each replica's memory
 * equal to the table (every event exactly once, in store order, evictions
 * included), also when transactions commit out of position order, the server
 * restarts, or the listening connection is lost. And events$ on both stores.
 */
import { join } from 'node:path';
import { Pool, PoolClient } from 'pg';
import { LedgerHealthIndicator, PersistentLedger, PostgresEventStore, RunEvent, RunLedger, createPersistentLedger } from '../../lib';
import { CapturingLogger } from '../helpers/capturing-logger';
import { LineChild, sleep } from '../helpers/child-process';
import { startEmbeddedPostgres, uniqueSchema, usePostgres } from '../helpers/postgres';
import { runEventInput, violation } from '../helpers/run-events';
import { startSampleApp } from '../helpers/sample-app';
import { makeTempDir, removeTempDirs } from '../helpers/temp-dir';
import { waitUntil } from '../helpers/wait';

const SAMPLE_MAIN = join(__dirname, '..', '..', 'sample', 'dist', 'main.js');

describe('The replica feed (PostgreSQL)', () => {
  // Its own embedded server even when DATABASE_URL is set: a test restarts it.
  const server = usePostgres(startEmbeddedPostgres);
  const ledgers: PersistentLedger[] = [];
  const children: LineChild[] = [];
  let admin: Pool;

  beforeAll(() => {
    admin = new Pool({ connectionString: server().connectionString });
    admin.on('error', () => undefined);
  });
  afterEach(async () => {
    for (const ledger of ledgers.splice(0)) await ledger.close().catch(() => undefined);
    for (const child of children.splice(0)) if (child.process.exitCode === null && child.process.signalCode === null) await child.kill9();
  });
  afterAll(async () => {
    await admin.end();
    removeTempDirs();
  });

  async function replicaOf(
    schema: string,
    options: { pollIntervalMs?: number; maxEvents?: number; compactionLeaseMs?: number } = {},
  ): Promise<PersistentLedger> {
    const store = new PostgresEventStore({
      connectionString: server().connectionString,
      schema,
      pollIntervalMs: options.pollIntervalMs ?? 200,
      compactionLeaseMs: options.compactionLeaseMs,
      logger: new CapturingLogger(),
    });
    const ledger = createPersistentLedger({
      store,
      compactIntervalMs: 0,
      highWaterMark: 0,
      maxEvents: options.maxEvents,
      logger: new CapturingLogger(),
    });
    ledgers.push(ledger);
    await ledger.init();
    return ledger;
  }

  /** The table's events in store order, read directly. */
  async function tableEvents(schema: string): Promise<RunEvent[]> {
    const { rows } = await admin.query(`SELECT event FROM "${schema}".ledger_events ORDER BY tx, position`);
    return rows.map((r) => r.event as RunEvent);
  }

  it('three replica processes under concurrent load hold the same events in the same order as the table, with the same metrics', async () => {
    const database = uniqueSchema('feed');
    await admin.query(`CREATE DATABASE ${database}`);
    const url = server().connectionString.replace(/\/[^/]+$/, `/${database}`);
    const replicas = await Promise.all(
      [0, 1, 2].map(async () => {
        const child = new LineChild(SAMPLE_MAIN, [], { LEDGER_DATABASE_URL: url, PORT: '0', LEDGER_COMPACTION_CRON: '0 0 1 1 *' });
        children.push(child);
        const line = await child.waitFor((l) => /listening on/.test(l), 30_000);
        return `http://127.0.0.1:${/localhost:(\d+)/.exec(line)![1]}`;
      }),
    );
    const rules = ['no-any', 'force-push', 'tests-required'];
    const post = (base: string, i: number) =>
      fetch(`${base}/runs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(
          runEventInput({ taskId: `task-${i % 7}`, timestamp: 1_000 + i, reworkLines: i % 9, violations: i % 3 ? [violation(rules[i % 3])] : [] }),
        ),
      }).then(async (r) => {
        expect(r.status).toBe(201);
        return ((await r.json()) as RunEvent).eventId;
      });
    const ids: string[] = [];
    for (let round = 0; round < 10; round++) {
      ids.push(...(await Promise.all(Array.from({ length: 60 }, (_, i) => post(replicas[i % 3], round * 60 + i)))));
    }
    expect(new Set(ids).size).toBe(600);

    // The truth: the table itself, in store order.
    const direct = new Pool({ connectionString: url });
    const { rows } = await direct.query('SELECT event FROM public.ledger_events ORDER BY tx, position');
    await direct.end();
    const truth = rows.map((r) => r.event as RunEvent);
    expect(truth).toHaveLength(600);
    const expectedMetrics = new RunLedger().computeMetrics(truth);
    const expectedRanking = new RunLedger().rankViolations(truth);

    const get = async (base: string, path: string) => (await fetch(base + path)).json() as Promise<any>;
    await waitUntil(
      async () => (await Promise.all(replicas.map((b) => get(b, '/runs?limit=1000')))).every((page) => (page.events as RunEvent[]).length === 600),
      20_000,
      'every replica holding 600 events',
    );
    for (const base of replicas) {
      const events = (await get(base, '/runs?limit=1000')).events as RunEvent[];
      expect(events.map((e) => e.eventId)).toEqual(truth.map((e) => e.eventId));
      expect(await get(base, '/metrics')).toEqual(expectedMetrics);
      expect(await get(base, '/violations')).toEqual(expectedRanking);
    }
    // An event logged on one replica is evaluated by every other.
    for (const base of replicas) expect((await fetch(`${base}/runs/${ids[0]}/evaluation`)).status).toBe(200);
    console.log(`replica feed: 3 processes, 600 events logged concurrently, identical order, metrics ${JSON.stringify(expectedMetrics)}`);
  }, 120_000);

  it('transactions that commit out of position order are never skipped: every event reaches the follower exactly once', async () => {
    const schema = uniqueSchema('outoforder');
    const follower = await replicaOf(schema, { pollIntervalMs: 50 });
    const seen: string[] = [];
    const subscription = follower.events$.subscribe((e) => seen.push(e.eventId));
    const writers = new Pool({ connectionString: server().connectionString, max: 12 });
    const insert = `INSERT INTO "${schema}".ledger_events (event_id, task_id, ts, event) SELECT * FROM unnest($1::text[], $2::text[], $3::float8[], $4::json[])`;
    let counter = 0;
    const writer = async (w: number) => {
      for (let t = 0; t < 25; t++) {
        const client = await writers.connect();
        try {
          await client.query('BEGIN');
          const events = Array.from({ length: 10 }, () => ({
            ...runEventInput({ taskId: `w${w}`, timestamp: counter }),
            eventId: `ev-${w}-${counter++}`,
          }));
          await client.query(insert, [
            events.map((e) => e.eventId),
            events.map((e) => e.taskId),
            events.map((e) => e.timestamp),
            events.map((e) => JSON.stringify(e)),
          ]);
          // Hold some transactions open while others, which took later positions, commit.
          await sleep(Math.random() < 0.3 ? Math.random() * 150 : Math.random() * 5);
          await client.query('COMMIT');
        } finally {
          client.release();
        }
      }
    };
    await Promise.all(Array.from({ length: 10 }, (_, w) => writer(w)));
    await writers.end();
    const table = (await tableEvents(schema)).map((e) => e.eventId);
    expect(table).toHaveLength(2_500);
    await waitUntil(() => seen.length >= 2_500, 20_000, 'the follower seeing 2500 events');
    await sleep(300);
    subscription.unsubscribe();
    expect(seen).toHaveLength(2_500);
    expect(new Set(seen).size).toBe(2_500);
    expect(seen).toEqual(table);
    expect(follower.getEvents().map((e) => e.eventId)).toEqual(table);
    // The trap this avoids: positions were handed out in another order than the commits.
    const { rows } = await admin.query(`SELECT event_id FROM "${schema}".ledger_events ORDER BY position`);
    const byPosition = rows.map((r) => r.event_id);
    console.log(
      `replica feed, out-of-order commits: 2500 events, 250 transactions; commit order differs from position order: ${JSON.stringify(byPosition) !== JSON.stringify(table)}; 0 skipped, 0 repeated`,
    );
  }, 60_000);

  it('evictions propagate: after a compaction on one replica, every replica holds exactly what the table keeps', async () => {
    const schema = uniqueSchema('evict');
    const a = await replicaOf(schema, { maxEvents: 20 });
    const b = await replicaOf(schema, { maxEvents: 20 });
    for (let i = 0; i < 50; i++) (i % 2 ? a : b).logEvent(runEventInput({ taskId: `t${i % 4}`, timestamp: 10_000 + ((i * 37) % 50) }));
    await Promise.all([a.flush(), b.flush()]);
    await waitUntil(() => a.eventCount === 50 && b.eventCount === 50, 10_000, 'both replicas holding 50');
    expect(await a.compact()).toBe(30);
    const kept = (await tableEvents(schema)).map((e) => e.eventId);
    expect(kept).toHaveLength(20);
    await waitUntil(() => a.eventCount === 20 && b.eventCount === 20, 10_000, 'both replicas holding the 20 kept');
    expect(a.getEvents().map((e) => e.eventId)).toEqual(kept);
    expect(b.getEvents().map((e) => e.eventId)).toEqual(kept);
  }, 30_000);

  it('an own event committed, then evicted by another replica before this replica\u2019s feed delivered it, leaves memory', async () => {
    const schema = uniqueSchema('evicted_own');
    const writer = await replicaOf(schema, { maxEvents: 5 });
    const compactor = await replicaOf(schema, { maxEvents: 5 });
    for (let i = 0; i < 5; i++) compactor.logEvent(runEventInput({ taskId: 'new', timestamp: 1_000 + i }));
    await compactor.flush();
    await waitUntil(() => writer.eventCount === 5, 10_000, 'the writer holding the compactor\u2019s events');
    // A transaction left open holds every replica's feed back: the writer's next events are committed but not delivered.
    const holder = await admin.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT pg_current_xact_id()');
      const old = [0, 1, 2].map((i) => writer.logEvent(runEventInput({ taskId: 'old', timestamp: i })));
      await writer.flush();
      expect(await compactor.compact()).toBe(3);
      const table = (await tableEvents(schema)).map((e) => e.eventId);
      expect(table).not.toEqual(expect.arrayContaining([old[0].eventId]));
      await waitUntil(
        () => !writer.getEvents().some((e) => old.some((o) => o.eventId === e.eventId)),
        10_000,
        'the evicted own events leaving memory',
      );
    } finally {
      await holder.query('COMMIT');
      holder.release();
    }
    const table = (await tableEvents(schema)).map((e) => e.eventId);
    await waitUntil(() => writer.eventCount === table.length, 10_000, 'the writer holding the table');
    expect(writer.getEvents().map((e) => e.eventId)).toEqual(table);
  }, 30_000);

  it('a replica writing while another compacts on a schedule ends, after quiet, holding exactly the table: no evicted event stays in its memory', async () => {
    const schema = uniqueSchema('phantom');
    const writer = await replicaOf(schema, { maxEvents: 400, compactionLeaseMs: 5 });
    const compactor = await replicaOf(schema, { maxEvents: 400, compactionLeaseMs: 5 });
    const until = Date.now() + 3_000;
    const writing = (async () => {
      let n = 0;
      while (Date.now() < until) {
        // Timestamps out of order: a fresh write is often among the oldest, which a compaction evicts.
        for (let i = 0; i < 40; i++) writer.logEvent(runEventInput({ taskId: `w${i % 5}`, timestamp: (n++ * 7919) % 100_000 }));
        await writer.flush();
        await sleep(5);
      }
    })();
    const compacting = (async () => {
      while (Date.now() < until) {
        await compactor.compact();
        await sleep(20);
      }
    })();
    await Promise.all([writing, compacting]);
    const table = (await tableEvents(schema)).map((e) => e.eventId);
    const same = (ledger: PersistentLedger) => JSON.stringify(ledger.getEvents().map((e) => e.eventId)) === JSON.stringify(table);
    await waitUntil(() => same(writer) && same(compactor), 10_000, 'both replicas holding exactly the table').catch(() => undefined);
    const phantoms = writer.getEvents().filter((e) => !table.includes(e.eventId)).length;
    expect({ phantoms, writer: writer.getEvents().map((e) => e.eventId) }).toEqual({ phantoms: 0, writer: table });
    expect(compactor.getEvents().map((e) => e.eventId)).toEqual(table);
  }, 30_000);

  it('a pool that refuses LISTEN: the feed polls instead, delivers everything, and the health indicator says so', async () => {
    const schema = uniqueSchema('no_listen');
    const writer = await replicaOf(schema);
    // What a transaction pooler answers: every other statement works.
    const pool = new Pool({ connectionString: server().connectionString, max: 4 });
    pool.on('connect', (client: PoolClient) => {
      const query = client.query.bind(client) as (...args: unknown[]) => unknown;
      (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) =>
        typeof args[0] === 'string' && args[0].startsWith('LISTEN ')
          ? Promise.reject(new Error('LISTEN is not supported in transaction pooling mode'))
          : query(...args);
    });
    const logger = new CapturingLogger();
    const follower = createPersistentLedger({
      store: new PostgresEventStore({ pool, schema, pollIntervalMs: 100, logger }),
      compactIntervalMs: 0,
      highWaterMark: 0,
      logger: new CapturingLogger(),
    });
    ledgers.push(follower);
    try {
      await follower.init();
      for (let i = 0; i < 30; i++) writer.logEvent(runEventInput({ taskId: 'p', timestamp: i }));
      await writer.flush();
      const table = (await tableEvents(schema)).map((e) => e.eventId);
      await waitUntil(() => follower.eventCount === 30, 10_000, 'the polling follower holding the 30 events');
      expect(follower.getEvents().map((e) => e.eventId)).toEqual(table);
      expect(follower.getFeedStatus()).toMatchObject({ following: true, error: null, polling: expect.stringContaining('LISTEN failed') });
      const health = await new LedgerHealthIndicator(follower).isHealthy('ledger');
      expect(health.ledger).toMatchObject({
        status: 'up',
        problems: [],
        warnings: [expect.stringMatching(/replica feed only polls: LISTEN failed.*pooling mode/)],
      });
      expect(logger.messages('warn').filter((m) => /cannot LISTEN/.test(m))).toHaveLength(1);
      expect(writer.getFeedStatus().polling).toBeNull();
    } finally {
      await follower.close();
      await pool.end();
    }
  }, 30_000);

  it('a server restart and a lost listening connection: the feed resumes from its cursor, without gaps or repeats', async () => {
    const schema = uniqueSchema('restart_feed');
    const writer = await replicaOf(schema);
    const follower = await replicaOf(schema);
    const seen: string[] = [];
    follower.events$.subscribe((e) => seen.push(e.eventId));
    const logSome = async (n: number) => {
      for (let i = 0; i < n; i++) writer.logEvent(runEventInput({ taskId: 'r', timestamp: i }));
      await writer.flush();
    };
    await logSome(100);
    await server().stop();
    await sleep(500);
    await server().start();
    await waitUntil(
      () =>
        logSome(50).then(
          () => true,
          () => false,
        ),
      20_000,
      'writes going through after the restart',
    );
    // Drop the follower's listening connection: it must come back on its own.
    await admin
      .query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'LISTEN %' AND pid <> pg_backend_pid()`)
      .catch(() => undefined);
    await logSome(100);
    const table = (await tableEvents(schema)).map((e) => e.eventId);
    await waitUntil(() => follower.eventCount === table.length && seen.length === table.length, 20_000, 'the follower catching up');
    expect(new Set(seen).size).toBe(seen.length);
    expect(follower.getEvents().map((e) => e.eventId)).toEqual(table);
    expect(writer.getEvents().map((e) => e.eventId)).toEqual(table);
  }, 60_000);
});

describe('events$ on the NDJSON store, and the sample app over Server-Sent Events', () => {
  afterAll(removeTempDirs);

  it('emits this process\u2019s events once written, in order, each once', async () => {
    const ledger = createPersistentLedger({ storagePath: makeTempDir(), compactIntervalMs: 0, logger: new CapturingLogger() });
    await ledger.init();
    const seen: string[] = [];
    ledger.events$.subscribe((e) => seen.push(e.eventId));
    const logged: string[] = [];
    for (let i = 0; i < 1_000; i++) {
      logged.push(ledger.logEvent(runEventInput({ timestamp: i })).eventId);
      if (i % 100 === 99) await ledger.flush();
    }
    await ledger.flush();
    expect(seen).toEqual(logged);
    let completed = false;
    ledger.events$.subscribe({ complete: () => (completed = true) });
    await ledger.close();
    expect(completed).toBe(true);
  });

  it('GET /runs/stream streams each stored event to an HTTP client', async () => {
    const sample = await startSampleApp(makeTempDir('ledger-sse-'));
    try {
      const controller = new AbortController();
      const response = await fetch(`${sample.base}/runs/stream`, { signal: controller.signal });
      expect(response.headers.get('content-type')).toMatch(/text\/event-stream/);
      const reader = response.body!.getReader();
      const posted = (await sample.call('POST', '/runs', runEventInput({ taskId: 'sse', timestamp: 42 }))).body as RunEvent;
      let text = '';
      while (!text.includes('\n\n')) text += new TextDecoder().decode((await reader.read()).value);
      controller.abort();
      expect(text).toMatch(/^event: run\nid: /m);
      const data = JSON.parse(/^data: (.*)$/m.exec(text)![1]);
      expect(data).toEqual(posted);
    } finally {
      await sample.app.close();
    }
  });
});
