import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { RunningSample, startSampleApp } from '../helpers/sample-app';
import { eventsOnDisk } from '../helpers/ndjson';
import { runEventInput, violation } from '../helpers/run-events';
import { makeTempDir, removeTempDirs } from '../helpers/temp-dir';

async function json(base: string, path: string, init?: RequestInit): Promise<{ status: number; body: any }> {
  const response = await fetch(base + path, { headers: { 'content-type': 'application/json' }, ...init });
  return { status: response.status, body: (await response.json()) as any };
}

describe('sample app over HTTP', () => {
  let sample: RunningSample;
  let base: string;
  let dir: string;

  beforeAll(async () => {
    dir = makeTempDir();
    sample = await startSampleApp(dir);
    base = sample.base;
  });

  afterAll(async () => {
    await sample.app.close();
    removeTempDirs();
  });

  it('POST /runs stores the event durably and returns it', async () => {
    const { status, body } = await json(base, '/runs', {
      method: 'POST',
      body: JSON.stringify(runEventInput({ taskId: 'http-1', timestamp: 1000 })),
    });
    expect(status).toBe(201);
    expect(body).toMatchObject({ taskId: 'http-1', timestamp: 1000, eventId: expect.any(String) });
    expect(eventsOnDisk(dir).map((e) => e.eventId)).toContain(body.eventId);
  });

  it('POST /runs answers 400 with the field for an invalid event, and stores nothing', async () => {
    const before = eventsOnDisk(dir).length;
    const { status, body } = await json(base, '/runs', { method: 'POST', body: JSON.stringify({ taskId: 'x', timestamp: 'yesterday' }) });
    expect(status).toBe(400);
    expect(body).toMatchObject({ field: 'timestamp', message: expect.stringContaining('"timestamp" must be a finite number') });
    const nested = await json(base, '/runs', { method: 'POST', body: JSON.stringify({ taskId: 'x', timestamp: 1, violations: [{ ruleId: 1 }] }) });
    expect(nested.status).toBe(400);
    expect(nested.body.field).toBe('violations[0].ruleId');
    expect(eventsOnDisk(dir)).toHaveLength(before);
  });

  it('POST /runs answers 400 for a misspelt field, naming it and the field it meant, and for a timestamp in nanoseconds; stores neither', async () => {
    const before = eventsOnDisk(dir).length;
    const misspelt = await json(base, '/runs', { method: 'POST', body: JSON.stringify({ taskId: 't', timestamp: 1, toolUsed: ['x'] }) });
    expect(misspelt.status).toBe(400);
    expect(misspelt.body).toMatchObject({
      field: 'toolUsed',
      message: expect.stringContaining('"toolUsed" is not a run-event field: did you mean "toolsUsed"?'),
    });
    const nanoseconds = await json(base, '/runs', { method: 'POST', body: JSON.stringify({ taskId: 'ns', timestamp: 1.7e18 }) });
    expect(nanoseconds.status).toBe(400);
    expect(nanoseconds.body).toMatchObject({ field: 'timestamp', message: expect.stringContaining('nanoseconds? Divide by 1e6') });
    // Extra fields of other names are kept, as documented.
    const custom = await json(base, '/runs', { method: 'POST', body: JSON.stringify({ taskId: 't', timestamp: 1, reviewer: 'ana' }) });
    expect(custom.status).toBe(201);
    expect(eventsOnDisk(dir).slice(before)).toEqual([expect.objectContaining({ eventId: custom.body.eventId, reviewer: 'ana' })]);
  });

  it('GET /runs filters by task and inclusive time range; bad bounds are 400', async () => {
    for (const ts of [2000, 3000, 4000]) {
      await json(base, '/runs', { method: 'POST', body: JSON.stringify(runEventInput({ taskId: 'range', timestamp: ts })) });
    }
    const { body } = await json(base, '/runs?taskId=range&from=3000&to=4000');
    expect(body.events.map((e: { timestamp: number }) => e.timestamp)).toEqual([3000, 4000]);
    expect(body.next).toBeNull();
    expect((await json(base, '/runs?from=soon')).status).toBe(400);
  });

  it('GET /runs pages: 100 by default with a cursor, the cursors lead through every event once in order (filters kept), limit 1..1000', async () => {
    for (let i = 0; i < 2_500; i++) sample.ledger.logEvent(runEventInput({ taskId: `paged-${i % 7}`, timestamp: 100_000 + i }));
    await sample.ledger.flush();
    const ids = (events: { eventId: string }[]) => events.map((e) => e.eventId);
    /** Every page from `path`, following `next`; returns the events in the order received. */
    const follow = async (path: string, limit?: number) => {
      const seen: string[] = [];
      let next: string | null = null;
      let pages = 0;
      do {
        const params = [limit === undefined ? '' : `limit=${limit}`, next === null ? '' : `after=${encodeURIComponent(next)}`].filter(Boolean);
        const separator = path.includes('?') ? '&' : '?';
        const { status, body } = await json(base, params.length ? `${path}${separator}${params.join('&')}` : path);
        expect(status).toBe(200);
        expect(body.events.length).toBeLessThanOrEqual(limit ?? 100);
        seen.push(...ids(body.events));
        next = body.next;
        pages++;
      } while (next !== null);
      return { seen, pages };
    };

    const first = await json(base, '/runs');
    expect(first.body.events).toHaveLength(100);
    expect(first.body.next).toEqual(expect.any(String));
    expect(ids(first.body.events)).toEqual(ids(sample.ledger.getEvents().slice(0, 100)));

    const everything = await follow('/runs');
    expect(everything.seen).toEqual(ids(sample.ledger.getEvents()));
    expect(new Set(everything.seen).size).toBe(everything.seen.length);
    expect(everything.pages).toBe(Math.ceil(sample.ledger.eventCount / 100));

    const filtered = await follow('/runs?taskId=paged-3&from=100500&to=102000', 40);
    const truth = sample.ledger.getEvents().filter((e) => e.taskId === 'paged-3' && e.timestamp >= 100_500 && e.timestamp <= 102_000);
    expect(truth.length).toBeGreaterThan(40);
    expect(filtered.seen).toEqual(ids(truth));

    expect((await json(base, '/runs?limit=1000')).body.events).toHaveLength(1000);
    for (const bad of ['limit=5000', 'limit=0', 'limit=ten', 'limit=1.5', 'after=not-a-cursor']) {
      const { status, body } = await json(base, `/runs?${bad}`);
      expect([bad, status]).toEqual([bad, 400]);
      expect(body.message).toMatch(/"limit" must be an integer from 1 to 1000|"after" is not a cursor this endpoint gave/);
    }
  });

  it('GET /runs/:eventId/evaluation runs every evaluator; unknown ids are 404', async () => {
    const { body: event } = await json(base, '/runs', {
      method: 'POST',
      body: JSON.stringify(runEventInput({ taskId: 'eval', testResults: { ran: true, passed: 3, failed: 1, skipped: 0 } })),
    });
    const { status, body } = await json(base, `/runs/${event.eventId}/evaluation`);
    expect(status).toBe(200);
    expect(body.map((r: { name: string }) => r.name)).toEqual([
      'tests-pass',
      'forbidden-command-scan',
      'forbidden-dependency-scan',
      'violation-rate',
      'diff-quality',
    ]);
    expect(body[0]).toMatchObject({ passed: false, score: 0.75 });
    expect((await json(base, '/runs/nope/evaluation')).status).toBe(404);
  });

  it('GET /metrics, /violations and /stats report over the stored history', async () => {
    await json(base, '/runs', {
      method: 'POST',
      body: JSON.stringify(runEventInput({ taskId: 'v', violations: [violation('no-any')], reworkLines: 12 })),
    });
    const metrics = await json(base, '/metrics');
    expect(metrics.body.taskCount).toBe(eventsOnDisk(dir).length);
    const violations = await json(base, '/violations');
    expect(violations.body[0]).toEqual({ ruleId: 'no-any', frequency: 1, cost: 12, score: 12 });
    const stats = await json(base, '/stats');
    expect(stats.body).toMatchObject({ driver: 'ndjson', eventCount: eventsOnDisk(dir).length, lastWriteOk: true });
  });

  it('GET /health is up with the store stats; GET /prometheus exports the ledger metrics for this store', async () => {
    const health = await json(base, '/health');
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({
      status: 'ok',
      details: { ledger: { status: 'up', driver: 'ndjson', eventCount: eventsOnDisk(dir).length, problems: [] } },
    });
    const response = await fetch(`${base}/prometheus`);
    expect(response.status).toBe(200);
    const text = await response.text();
    const appended = new RegExp(`^ledger_events_appended_total\\{ledger_driver="ndjson",ledger_store="${dir}"[^}]*\\} (\\d+)$`, 'm').exec(text);
    expect(Number(appended?.[1])).toBe(eventsOnDisk(dir).length);
    expect(text).toMatch(/^ledger_write_duration_count\{ledger_driver="ndjson"/m);
    expect(text).toMatch(/^ledger_backlog\{ledger_driver="ndjson",.*\} 0$/m);
  });
});

describe('built sample app as a process', () => {
  afterAll(removeTempDirs);

  it('serves, and on SIGTERM runs the shutdown hooks: flushes, releases the lock and exits', async () => {
    const dir = makeTempDir();
    const child = spawn(process.execPath, [join(__dirname, '..', '..', 'sample', 'dist', 'main.js')], {
      env: { ...process.env, LEDGER_STORAGE_PATH: dir, PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`sample did not start:\n${output}`)), 20_000);
      const poll = setInterval(() => {
        const match = /listening on http:\/\/localhost:(\d+)/.exec(output);
        if (match) {
          clearInterval(poll);
          clearTimeout(timer);
          resolve(Number(match[1]));
        }
      }, 50);
    });
    expect(port).toBeGreaterThan(0);
    const posted = await json(`http://127.0.0.1:${port}`, '/runs', { method: 'POST', body: JSON.stringify(runEventInput({ taskId: 'proc' })) });
    expect(posted.status).toBe(201);
    const exit = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
      child.on('exit', (code, signal) => resolve({ code, signal })),
    );
    child.kill('SIGTERM');
    // Nest re-raises the signal after its shutdown hooks have run.
    expect(await exit).toEqual({ code: null, signal: 'SIGTERM' });
    expect(output).not.toMatch(/ERROR/);
    expect(eventsOnDisk(dir).map((e) => e.eventId)).toEqual([posted.body.eventId]);
    expect(existsSync(join(dir, '.lock'))).toBe(false);
  });
});
