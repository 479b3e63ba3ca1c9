/**
 * LedgerHealthIndicator through a real /health endpoint of an app with @nestjs/terminus,
 * against real faults: a full tmpfs, a removed lock file, a backlog, a stopped PostgreSQL.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Controller, Get, INestApplication, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { HealthCheck, HealthCheckService, TerminusModule } from '@nestjs/terminus';
import { LedgerHealthIndicator, LedgerModule, LedgerModuleOptions, PersistentLedger } from '../../lib';
import { CapturingLogger } from '../helpers/capturing-logger';
import { FIXTURES, LineChild } from '../helpers/child-process';
import { startEmbeddedPostgres, uniqueSchema, usePostgres } from '../helpers/postgres';
import { runEventInput } from '../helpers/run-events';
import { makeTempDir, removeTempDirs } from '../helpers/temp-dir';
import { mountSmallTmpfs, unmountTmpfs } from '../helpers/tmpfs';
import { waitUntil } from '../helpers/wait';

@Controller()
class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly ledgerHealth: LedgerHealthIndicator,
  ) {}

  @Get('health')
  @HealthCheck()
  check() {
    return this.health.check([() => this.ledgerHealth.isHealthy('ledger', { maxPendingEvents: 100, maxFeedLagMs: 1_500 })]);
  }
}

async function startApp(options: LedgerModuleOptions) {
  @Module({ imports: [TerminusModule, LedgerModule.forRoot(options)], controllers: [HealthController] })
  class HealthApp {}
  const app: INestApplication = await NestFactory.create(HealthApp, { logger: new CapturingLogger() });
  await app.listen(0, '127.0.0.1');
  const base = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
  const health = async () => {
    const response = await fetch(`${base}/health`);
    const body = (await response.json()) as { status: string; details: { ledger: Record<string, any> } };
    return { status: response.status, ledger: body.details.ledger };
  };
  return { app, health, ledger: app.get(PersistentLedger) };
}

type Health = Awaited<ReturnType<Awaited<ReturnType<typeof startApp>>['health']>>;

/** Asks `/health` until `accept` holds; returns that answer. */
async function healthWhen(health: () => Promise<Health>, accept: (answer: Health) => boolean, timeoutMs = 15_000): Promise<Health> {
  let answer!: Health;
  await waitUntil(async () => accept((answer = await health())), timeoutMs, 'the expected /health answer');
  return answer;
}

describe('LedgerHealthIndicator on the NDJSON store', () => {
  afterAll(removeTempDirs);

  it('up with the stats; down with the cause when the disk is full; up again once written', async () => {
    const mount = mountSmallTmpfs('the full-disk health scenario');
    if (!mount) return;
    const { app, health, ledger } = await startApp({ storagePath: join(mount, 'store'), compaction: false });
    try {
      ledger.logEvent(runEventInput({ taskId: 'first' }));
      await ledger.flush();
      expect(await health()).toMatchObject({
        status: 200,
        ledger: { status: 'up', driver: 'ndjson', eventCount: 1, lastWriteOk: true, problems: [] },
      });

      // Fill the disk: the filler is written until the tmpfs refuses more.
      expect(() => writeFileSync(join(mount, 'filler'), Buffer.alloc(512 * 1024))).toThrow(/ENOSPC/);
      for (let i = 0; i < 50; i++) ledger.logEvent(runEventInput({ taskId: `full-${i}`, timestamp: i }));
      await expect(ledger.flush()).rejects.toMatchObject({ code: 'ENOSPC' });
      const down = await health();
      expect(down.status).toBe(503);
      expect(down.ledger).toMatchObject({ status: 'down', lastWriteOk: false, pendingEvents: 50 });
      expect(down.ledger.problems).toEqual([expect.stringMatching(/^the last write failed: .*ENOSPC/)]);

      rmSync(join(mount, 'filler'));
      await ledger.flush();
      expect(await health()).toMatchObject({ status: 200, ledger: { status: 'up', eventCount: 51, pendingEvents: 0 } });
    } finally {
      await app.close();
      unmountTmpfs(mount);
    }
  });

  it('down when the unwritten backlog exceeds the bound, and when the lock file is taken away', async () => {
    const storagePath = makeTempDir();
    const { app, health, ledger } = await startApp({ storagePath, compaction: false, autoFlush: false, lockStaleMs: 300 });
    try {
      for (let i = 0; i < 101; i++) ledger.logEvent(runEventInput({ timestamp: i }));
      const backlog = await health();
      expect(backlog).toMatchObject({ status: 503, ledger: { status: 'down', pendingEvents: 101, lastWriteOk: true } });
      expect(backlog.ledger.problems).toEqual(['101 events wait unwritten (more than 100)']);
      await ledger.flush();
      expect((await health()).status).toBe(200);

      // The lock file removed and taken by another live process (a removed lock alone is taken again
      // within a refresh: if the ledger is quicker than the other process, remove it again).
      const contender = new LineChild(join(FIXTURES, 'lock-contender.js'), []);
      try {
        for (let seen = 0; ;) {
          rmSync(join(storagePath, '.lock'), { force: true });
          contender.send(`HOLD ${storagePath} 150`);
          const answer = await contender.waitFor((l) => contender.lines.indexOf(l, seen) >= seen && /^(HELD|ERR)/.test(l));
          seen = contender.lines.length;
          if (answer === 'HELD') break;
        }
        const lost = await healthWhen(health, (h) => h.status === 503);
        expect(lost.ledger).toMatchObject({ status: 'down', lockLost: true });
        expect(lost.ledger.problems).toEqual([expect.stringContaining('the store lock was lost')]);
      } finally {
        await contender.kill9();
      }
      await healthWhen(health, (h) => h.status === 200);
    } finally {
      await app.close();
    }
  });
});

describe('LedgerHealthIndicator on PostgreSQL', () => {
  const server = usePostgres(startEmbeddedPostgres);

  it('down while the server is stopped (storage does not answer, the feed lags), up again once it is back', async () => {
    const { app, health, ledger } = await startApp({
      storage: { type: 'postgres', connectionString: server().connectionString, schema: uniqueSchema('health'), pollIntervalMs: 200 },
      compaction: false,
    });
    try {
      ledger.logEvent(runEventInput());
      await ledger.flush();
      expect(await health()).toMatchObject({ status: 200, ledger: { status: 'up', driver: 'postgres', eventCount: 1, feed: { following: true } } });

      await server().stop();
      const down = await healthWhen(health, (h) => h.ledger.problems.length >= 2, 30_000);
      expect(down.status).toBe(503);
      expect(down.ledger).toMatchObject({ status: 'down', countsStale: true, eventCount: 1 });
      expect(down.ledger.problems).toEqual(
        expect.arrayContaining(['the storage does not answer', expect.stringMatching(/^the replica feed has not caught up for \d+ ms$/)]),
      );

      await server().start();
      const up = await healthWhen(health, (h) => h.status === 200, 30_000);
      expect(up.ledger).toMatchObject({ status: 'up', countsStale: false, problems: [] });
    } finally {
      await app.close();
    }
  }, 120_000);
});
