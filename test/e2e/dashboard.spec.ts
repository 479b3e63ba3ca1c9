/**
 * LedgerDashboardModule's page and JSON endpoints over real HTTP, on the sample app (NDJSON) and on
 * two PostgreSQL replicas: the numbers are computeMetrics() and rankViolations() of the same events,
 * filters and paging select the right runs, a new event arrives on the stream, guards apply.
 */
import { AddressInfo } from 'node:net';
import { CanActivate, ExecutionContext, INestApplication, Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { LedgerDashboardModule, LedgerModule, PersistentLedger } from '../../lib';
import { CapturingLogger } from '../helpers/capturing-logger';
import { appendEventLines } from '../helpers/ndjson';
import { uniqueSchema, usePostgres } from '../helpers/postgres';
import { T0, seedRuns } from '../helpers/dashboard-runs';
import { runEventInput, violation } from '../helpers/run-events';
import { RunningSample, startSampleApp } from '../helpers/sample-app';
import { openSse } from '../helpers/sse';
import { makeTempDir, removeTempDirs } from '../helpers/temp-dir';
import { waitUntil } from '../helpers/wait';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** JavaScript dates reach ±8.64e15 ms; a timestamp beyond cannot be shown as one. */
const isDate = (t: number) => Math.abs(t) <= 8.64e15;

async function getJson(base: string, path: string, headers: Record<string, string> = {}) {
  const response = await fetch(base + path, { headers });
  return { status: response.status, body: (await response.json()) as any };
}

describe('ledger dashboard endpoints (sample app, NDJSON)', () => {
  let sample: RunningSample;
  let ledger: PersistentLedger;
  const runs = seedRuns();

  beforeAll(async () => {
    // Retention of 200 events: the compaction test below evicts the oldest 41.
    process.env.LEDGER_MAX_EVENTS = '200';
    try {
      sample = await startSampleApp(makeTempDir());
    } finally {
      delete process.env.LEDGER_MAX_EVENTS;
    }
    ledger = sample.ledger;
    ledger.importEvents(runs);
    await ledger.flush();
  });
  afterAll(async () => {
    await sample.app.close();
    removeTempDirs();
  });

  it('serves one self-contained page: its script and styles inline, nothing from elsewhere', async () => {
    const response = await fetch(`${sample.base}/ledger`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/html');
    const html = await response.text();
    expect(html).toContain('data-testid="headline"');
    expect(html).toContain("location.pathname.replace(/\\/+$/, '')");
    expect(html).toMatch(/--accent: #2f6feb/);
    // Nothing loaded from elsewhere (the SVG namespace is a name, not a request; the icon is a data: URL).
    expect(html.replaceAll('http://www.w3.org/2000/svg', '')).not.toMatch(/<script[^>]+src=|<link[^>]+href="(?!data:)|https?:\/\/|url\(/);
    expect(html).toMatch(/<link\s+rel="icon"\s+href="data:image\/svg\+xml,/);
  });

  it('summary of all time: the headline is computeMetrics(), the ranking is rankViolations(), the series add up', async () => {
    const { status, body } = await getJson(sample.base, '/ledger/api/summary');
    expect(status).toBe(200);
    expect(body.metrics).toEqual(ledger.computeMetrics());
    expect(body.ranking).toEqual(ledger.rankViolations());
    expect(body.window).toEqual({ from: null, to: null, bucket: 'day' });
    expect(body.series).toHaveLength(10);
    expect(body.series.reduce((n: number, p: { runs: number }) => n + p.runs, 0)).toBe(runs.length);
    const ran = runs.filter((e) => e.testResults.ran);
    const firstDay = ran.filter((e) => e.timestamp < T0 + 24 * HOUR);
    expect(body.series[0].testPassRate).toBeCloseTo(firstDay.filter((e) => e.testResults.failed === 0).length / firstDay.length, 12);
    expect(body.outcomes).toEqual({
      accepted: runs.filter((e) => e.outcomeAccepted === true).length,
      rejected: runs.filter((e) => e.outcomeAccepted === false).length,
      pending: runs.filter((e) => e.outcomeAccepted === null).length,
    });
  });

  it('summary of a window: whole hours, the metrics of exactly the events in them, hourly buckets', async () => {
    const from = T0 + 30 * HOUR + 1_234;
    const to = T0 + 53 * HOUR + 59_000;
    const inWindow = runs.filter((e) => e.timestamp >= T0 + 30 * HOUR && e.timestamp < T0 + 54 * HOUR);
    const { body } = await getJson(sample.base, `/ledger/api/summary?from=${from}&to=${to}`);
    expect(body.window).toEqual({ from: T0 + 30 * HOUR, to: T0 + 54 * HOUR - 1, bucket: 'hour' });
    expect(body.metrics).toEqual(ledger.computeMetrics(inWindow));
    expect(body.ranking).toEqual(ledger.rankViolations(inWindow));
    expect(body.series).toHaveLength(24);
    expect((await getJson(sample.base, '/ledger/api/summary?from=yesterday')).status).toBe(400);
  });

  it('runs: pages, most recently stored first; filters by task, time, outcome and violations', async () => {
    const first = await getJson(sample.base, '/ledger/api/runs?pageSize=50');
    expect(first.body).toMatchObject({ total: runs.length, page: 1, pageSize: 50, pages: 5 });
    expect(first.body.runs.map((r: { eventId: string }) => r.eventId)).toEqual(
      runs
        .slice(-50)
        .reverse()
        .map((e) => e.eventId),
    );
    const last = await getJson(sample.base, '/ledger/api/runs?pageSize=50&page=5');
    expect(last.body.runs.map((r: { eventId: string }) => r.eventId)).toEqual(
      runs
        .slice(0, 40)
        .reverse()
        .map((e) => e.eventId),
    );

    const filtered = await getJson(
      sample.base,
      `/ledger/api/runs?taskId=t3&from=${T0 + 24 * HOUR}&to=${T0 + 120 * HOUR}&outcome=accepted&violations=without`,
    );
    const expected = runs
      .filter(
        (e) =>
          e.taskId === 't3' &&
          e.timestamp >= T0 + 24 * HOUR &&
          e.timestamp <= T0 + 120 * HOUR &&
          e.outcomeAccepted === true &&
          e.violations.length === 0,
      )
      .reverse();
    expect(filtered.body.total).toBe(expected.length);
    expect(filtered.body.runs.map((r: { eventId: string }) => r.eventId)).toEqual(expected.map((e) => e.eventId));
    expect(filtered.body.runs[0]).toEqual({
      eventId: expected[0].eventId,
      taskId: 't3',
      timestamp: expected[0].timestamp,
      intent: expected[0].intent,
      outcome: 'accepted',
      violations: 0,
      testsRan: expected[0].testResults.ran,
      testsFailed: expected[0].testResults.failed,
      reworkLines: expected[0].reworkLines,
      durationMs: expected[0].durationMs,
    });
    expect((await getJson(sample.base, '/ledger/api/runs?outcome=maybe')).status).toBe(400);
    expect((await getJson(sample.base, '/ledger/api/runs?page=0')).status).toBe(400);
  });

  it("a run's detail: its fields and every evaluator's verdict; an unknown id is 404", async () => {
    const run = runs[54];
    const { status, body } = await getJson(sample.base, `/ledger/api/runs/${run.eventId}`);
    expect(status).toBe(200);
    expect(body.event).toEqual(run);
    expect(body.evaluation).toEqual(await ledger.evaluate(run));
    expect(body.evaluation.map((v: { name: string }) => v.name)).toEqual(ledger.getEvaluators().map((e) => e.name));
    expect((await getJson(sample.base, '/ledger/api/runs/nope')).status).toBe(404);
  });

  it('the stream carries each newly stored event as a runs-table row; the summary counts it', async () => {
    const controller = new AbortController();
    const response = await fetch(`${sample.base}/ledger/api/stream`, { signal: controller.signal });
    const reader = response.body!.getReader();
    const logged = ledger.logEvent(runEventInput({ taskId: 'live', timestamp: T0 + 300 * HOUR, violations: [violation('no-any')] }));
    await ledger.flush();
    let text = '';
    while (!text.includes(logged.eventId)) text += new TextDecoder().decode((await reader.read()).value);
    controller.abort();
    const data = JSON.parse(/data: (.*)/.exec(text.slice(text.indexOf('event: run')))![1]);
    expect(data).toMatchObject({ eventId: logged.eventId, taskId: 'live', violations: 1, outcome: 'accepted' });
    const { body } = await getJson(sample.base, '/ledger/api/summary');
    expect(body.metrics).toEqual(ledger.computeMetrics());
    expect(body.metrics.taskCount).toBe(runs.length + 1);
  });

  it('after a compaction the summary is recomputed from what memory holds', async () => {
    expect(await ledger.compact()).toBe(41);
    const { body } = await getJson(sample.base, '/ledger/api/summary');
    expect(body.metrics.taskCount).toBe(200);
    expect(body.metrics).toEqual(ledger.computeMetrics());
    expect(body.ranking).toEqual(ledger.rankViolations());
  });

  it('a stream opened with Last-Event-ID first replays what was stored after that event, then follows', async () => {
    const logged = [1, 2, 3].map((i) => ledger.logEvent(runEventInput({ taskId: `replay-${i}`, timestamp: T0 + 400 * HOUR })));
    await ledger.flush();
    const stream = await openSse(`${sample.base}/ledger/api/stream`, { 'last-event-id': logged[0].eventId });
    try {
      expect(stream.status).toBe(200);
      await waitUntil(() => stream.events.length >= 2, 10_000, 'the two events after Last-Event-ID');
      const fourth = ledger.logEvent(runEventInput({ taskId: 'replay-4', timestamp: T0 + 400 * HOUR }));
      await ledger.flush();
      await waitUntil(() => stream.events.some((e) => e.id === fourth.eventId), 10_000, 'the event logged after reconnecting');
      expect(stream.events.map((e) => [e.type, e.id])).toEqual([logged[1], logged[2], fourth].map((e) => ['run', e.eventId]));
      expect(JSON.parse(stream.events[0].data)).toMatchObject({ eventId: logged[1].eventId, taskId: 'replay-2' });
    } finally {
      stream.close();
    }
  });

  it('a stream opened with a Last-Event-ID the ledger does not hold starts with a reset event', async () => {
    const stream = await openSse(`${sample.base}/ledger/api/stream`, { 'last-event-id': 'compacted-away' });
    try {
      await waitUntil(() => stream.events.length >= 1, 10_000, 'the reset event');
      expect(stream.events[0].type).toBe('reset');
    } finally {
      stream.close();
    }
  });
});

describe('ledger dashboard time axis, and stored timestamps that no date can hold', () => {
  /** UTC midnight of "day 1"; runs on days 1, 2 and 5, tests run on days 2 and 5 only. */
  const D1 = Date.UTC(2025, 2, 3);
  const dated = [0, 1, 4].map((day) => ({
    ...runEventInput({
      taskId: `day-${day + 1}`,
      timestamp: D1 + day * DAY + 10 * HOUR,
      testResults: { ran: day > 0, passed: 1, failed: 0, skipped: 0 },
    }),
    eventId: `day-${day + 1}`,
  }));
  /** Written into the log directly, as an older version or another writer may have left it (the validator is not asked). */
  const beyondDates = { ...runEventInput({ taskId: 'beyond-dates', timestamp: 1e16 }), eventId: 'beyond-dates' };
  let sample: RunningSample;

  beforeAll(async () => {
    const dir = makeTempDir();
    appendEventLines(dir, [dated[0], dated[1], beyondDates, dated[2]]);
    sample = await startSampleApp(dir);
  });
  afterAll(async () => {
    await sample.app.close();
    removeTempDirs();
  });

  it('the series has a bucket for every day from the first run to the last, quiet days with zero runs', async () => {
    const { body } = await getJson(sample.base, '/ledger/api/summary');
    expect(body.window.bucket).toBe('day');
    expect(body.series.map((p: { start: number; end: number }) => [p.start, p.end])).toEqual(
      [0, 1, 2, 3, 4].map((day) => [D1 + day * DAY, D1 + (day + 1) * DAY]),
    );
    expect(body.series.map((p: { runs: number }) => p.runs)).toEqual([1, 1, 0, 0, 1]);
    // A rate of no runs has no value (the chart's line breaks there), not zero.
    expect(body.series.map((p: { testPassRate: number | null }) => p.testPassRate)).toEqual([null, 1, null, null, 1]);
    expect(body.series.map((p: { violationRate: number | null }) => p.violationRate)).toEqual([0, 0, null, null, 0]);
  });

  it('a run whose timestamp is not a date is counted and listed with its raw timestamp, and left out of the time buckets', async () => {
    // Held unless the store's validator refuses the line on reading; either way nothing else breaks.
    const held = sample.ledger.getEvents();
    expect(held.map((e) => e.eventId).filter((id) => id !== 'beyond-dates')).toEqual(['day-1', 'day-2', 'day-5']);
    const summary = await getJson(sample.base, '/ledger/api/summary');
    expect(summary.status).toBe(200);
    expect(summary.body.metrics).toEqual(sample.ledger.computeMetrics());
    expect(summary.body.span.undated).toBe(held.filter((e) => !isDate(e.timestamp)).length);
    expect(summary.body.series.every((p: { start: number }) => isDate(p.start))).toBe(true);
    expect(summary.body.series.reduce((n: number, p: { runs: number }) => n + p.runs, 0)).toBe(3);
    const runs = await getJson(sample.base, '/ledger/api/runs');
    expect(runs.status).toBe(200);
    expect(runs.body.runs.map((r: { eventId: string; timestamp: number }) => [r.eventId, r.timestamp])).toEqual(
      [...held].reverse().map((e) => [e.eventId, e.timestamp]),
    );
    expect((await getJson(sample.base, `/ledger/api/runs?from=${9e15}`)).body.total).toBe(held.filter((e) => e.timestamp >= 9e15).length);
  });

  it('runs from the first date to the last make at most 60 buckets, each a date, contiguous', async () => {
    sample.ledger.logEvent(runEventInput({ taskId: 'earliest', timestamp: -8.64e15 + DAY }));
    sample.ledger.logEvent(runEventInput({ taskId: 'latest', timestamp: 8.64e15 - DAY }));
    await sample.ledger.flush();
    const { body } = await getJson(sample.base, '/ledger/api/summary');
    const series: { start: number; end: number; runs: number }[] = body.series;
    expect(series.length).toBeGreaterThan(1);
    expect(series.length).toBeLessThanOrEqual(60);
    expect(series.every((p) => isDate(p.start) && p.end > p.start)).toBe(true);
    expect(series.slice(1).every((p, i) => p.start === series[i].end)).toBe(true);
    expect(series[0].start).toBeLessThanOrEqual(-8.64e15 + DAY);
    expect(series.at(-1)!.end).toBeGreaterThan(8.64e15 - DAY);
    expect(series.reduce((n, p) => n + p.runs, 0)).toBe(5);
  });
});

describe('ledger dashboard guards', () => {
  afterAll(removeTempDirs);

  it('the guards of the options run on the page and on every endpoint', async () => {
    process.env.LEDGER_DASHBOARD_TOKEN = 'secret';
    const sample = await startSampleApp(makeTempDir());
    try {
      for (const path of ['/ledger', '/ledger/api/summary', '/ledger/api/runs', '/ledger/api/runs/x', '/ledger/api/stream']) {
        expect((await fetch(sample.base + path)).status).toBe(403);
      }
      expect((await getJson(sample.base, '/ledger/api/summary', { 'x-dashboard-token': 'secret' })).status).toBe(200);
      expect((await fetch(`${sample.base}/ledger?token=secret`)).status).toBe(200);
      // The rest of the app is not guarded by the dashboard's guards.
      expect((await fetch(`${sample.base}/runs`)).status).toBe(200);
    } finally {
      delete process.env.LEDGER_DASHBOARD_TOKEN;
      await sample.app.close();
    }
  });
});

describe('LedgerDashboardModule.forRootAsync', () => {
  afterAll(removeTempDirs);

  it('takes the path, guards and page size from a factory with injected providers', async () => {
    @Injectable()
    class DashboardSettings {
      readonly path = '/ops/runs';
      readonly token = 'from-settings';
    }
    @Module({ providers: [DashboardSettings], exports: [DashboardSettings] })
    class SettingsModule {}
    /** A guard class with a dependency of its own, resolved from the factory's imports. */
    @Injectable()
    class SettingsTokenGuard implements CanActivate {
      constructor(private readonly settings: DashboardSettings) {}
      canActivate(context: ExecutionContext): boolean {
        return context.switchToHttp().getRequest<{ query: Record<string, string> }>().query.token === this.settings.token;
      }
    }
    @Module({
      imports: [
        LedgerModule.forRoot({ storagePath: makeTempDir(), compaction: false }),
        LedgerDashboardModule.forRootAsync({
          imports: [SettingsModule],
          inject: [DashboardSettings],
          useFactory: async (settings: DashboardSettings) => ({
            path: settings.path,
            guards: [SettingsTokenGuard, { canActivate: (context: ExecutionContext) => context.getType() === 'http' }],
            pageSize: 7,
          }),
        }),
      ],
    })
    class AsyncDashboardModule {}
    const app = await NestFactory.create(AsyncDashboardModule, { logger: new CapturingLogger() });
    await app.listen(0, '127.0.0.1');
    const base = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
    try {
      app.get(PersistentLedger).importEvents(seedRuns(20));
      expect((await fetch(`${base}/ledger`)).status).toBe(404);
      expect((await fetch(`${base}/ops/runs`)).status).toBe(403);
      expect((await fetch(`${base}/ops/runs/api/runs?token=wrong`)).status).toBe(403);
      expect((await fetch(`${base}/ops/runs?token=from-settings`)).status).toBe(200);
      const runs = await getJson(base, '/ops/runs/api/runs?token=from-settings');
      expect(runs.status).toBe(200);
      expect(runs.body).toMatchObject({ total: 20, pageSize: 7, pages: 3 });
    } finally {
      await app.close();
    }
  });
});

describe('ledger dashboard on PostgreSQL replicas', () => {
  const server = usePostgres();

  async function replica(schema: string): Promise<{ app: INestApplication; base: string; ledger: PersistentLedger }> {
    @Module({
      imports: [
        LedgerModule.forRoot({
          storage: { type: 'postgres', connectionString: server().connectionString, schema, pollIntervalMs: 100 },
          compaction: false,
        }),
        LedgerDashboardModule.forRoot({ path: '/ops/ledger' }),
      ],
    })
    class ReplicaModule {}
    const app = await NestFactory.create(ReplicaModule, { logger: new CapturingLogger() });
    await app.listen(0, '127.0.0.1');
    return { app, base: `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`, ledger: app.get(PersistentLedger) };
  }

  it('every replica shows the same summary and runs, its own events and the others alike', async () => {
    const schema = uniqueSchema('dashboard');
    const a = await replica(schema);
    const b = await replica(schema);
    try {
      const runs = seedRuns(60);
      a.ledger.importEvents(runs.slice(0, 30));
      b.ledger.importEvents(runs.slice(30));
      await Promise.all([a.ledger.flush(), b.ledger.flush()]);
      await waitUntil(() => a.ledger.eventCount === 60 && b.ledger.eventCount === 60, 15_000, 'both replicas holding 60 events');
      const [summaryA, summaryB] = await Promise.all([getJson(a.base, '/ops/ledger/api/summary'), getJson(b.base, '/ops/ledger/api/summary')]);
      expect(summaryA.body).toEqual(summaryB.body);
      expect(summaryA.body.metrics).toEqual(a.ledger.computeMetrics());
      expect(summaryA.body.metrics.taskCount).toBe(60);
      const [runsA, runsB] = await Promise.all([getJson(a.base, '/ops/ledger/api/runs'), getJson(b.base, '/ops/ledger/api/runs')]);
      expect(runsA.body).toEqual(runsB.body);
      expect(runsA.body.total).toBe(60);
    } finally {
      await a.app.close();
      await b.app.close();
    }
  });
});
