/**
 * Promise 2: one writer at a time, never two.
 */
import { join } from 'node:path';
import { existsSync, rmSync } from 'node:fs';
import { FileEventStore, LedgerHealthIndicator, LedgerLockLostError, LedgerLockedError, createPersistentLedger } from '../../lib';
import { CapturingLogger } from '../helpers/capturing-logger';
import { FIXTURES, LineChild, sleep } from '../helpers/child-process';
import { eventsOnDisk } from '../helpers/ndjson';
import { runEventInput } from '../helpers/run-events';
import { makeTempDir, removeTempDirs } from '../helpers/temp-dir';
import { waitUntil } from '../helpers/wait';

const RACE_TRIALS = 200;
const SAMPLE_MAIN = join(__dirname, '..', '..', 'sample', 'dist', 'main.js');

describe('Guarantee 2: one writer at a time', () => {
  const children: LineChild[] = [];
  function child(script: string, args: string[] = [], env: NodeJS.ProcessEnv = {}): LineChild {
    const c = new LineChild(script, args, env);
    children.push(c);
    return c;
  }

  afterEach(async () => {
    for (const c of children.splice(0)) if (c.process.exitCode === null && c.process.signalCode === null) await c.kill9();
    removeTempDirs();
  });

  it('a ledger whose lock file is removed takes it again when it is free, so the command cannot compact under it', async () => {
    const dir = makeTempDir();
    const ledger = createPersistentLedger({ storagePath: dir, compactIntervalMs: 0, lockStaleMs: 300, logger: new CapturingLogger() });
    await ledger.init();
    try {
      for (let i = 0; i < 7; i++) ledger.logEvent(runEventInput({ timestamp: i }));
      await ledger.flush();
      rmSync(join(dir, '.lock'));
      await waitUntil(() => existsSync(join(dir, '.lock')), 5_000, 'the lock taken again');
      const contender = child(join(FIXTURES, 'lock-contender.js'));
      contender.send(`GO ${dir} 0`);
      expect(await contender.waitFor((l) => /^(WIN|LOCKED|ERR)/.test(l))).toBe(`LOCKED ${process.pid}`);
      ledger.logEvent(runEventInput({ timestamp: 7 }));
      await ledger.flush();
      expect(ledger.getEvents().map((e) => e.eventId)).toEqual(eventsOnDisk(dir).map((e) => e.eventId));
      expect(ledger.eventCount).toBe(8);
    } finally {
      await ledger.close();
    }
  });

  it('a ledger whose lock another process took neither compacts nor saves over that process\u2019s store', async () => {
    const dir = makeTempDir();
    const ledger = createPersistentLedger({ storagePath: dir, compactIntervalMs: 0, highWaterMark: 0, maxEvents: 2, logger: new CapturingLogger() });
    await ledger.init();
    try {
      for (let i = 0; i < 7; i++) ledger.logEvent(runEventInput({ timestamp: i }));
      await ledger.flush();
      rmSync(join(dir, '.lock'));
      const contender = child(join(FIXTURES, 'lock-contender.js'));
      contender.send(`GO ${dir} 0`);
      expect(await contender.waitFor((l) => /^(WIN|LOCKED|ERR)/.test(l))).toBe('WIN');
      await expect(ledger.compact()).rejects.toBeInstanceOf(LedgerLockLostError);
      await expect(ledger.save()).rejects.toBeInstanceOf(LedgerLockLostError);
      expect(eventsOnDisk(dir)).toHaveLength(7);
    } finally {
      await ledger.close().catch(() => undefined);
    }
  });

  it('a ledger whose lock another process took refuses writes with a typed error, then takes it back, reads what that process did, and memory equals the store', async () => {
    const dir = makeTempDir();
    const ledger = createPersistentLedger({ storagePath: dir, compactIntervalMs: 0, highWaterMark: 0, logger: new CapturingLogger() });
    await ledger.init();
    try {
      for (let i = 0; i < 7; i++) ledger.logEvent(runEventInput({ timestamp: i }));
      await ledger.flush();
      rmSync(join(dir, '.lock'));
      const contender = child(join(FIXTURES, 'lock-contender.js'));
      contender.send(`GO ${dir} 0`);
      expect(await contender.waitFor((l) => /^(WIN|LOCKED|ERR)/.test(l))).toBe('WIN');

      const queued = ledger.logEvent(runEventInput({ timestamp: 100 }));
      await expect(ledger.flush()).rejects.toMatchObject({ name: 'LedgerWriteError', cause: expect.any(LedgerLockLostError) });
      expect(() => ledger.logEvent(runEventInput({ timestamp: 101 }))).toThrow(LedgerLockLostError);
      const health = await new LedgerHealthIndicator(ledger).isHealthy('ledger');
      expect(health.ledger).toMatchObject({ status: 'down', lockLost: true });

      contender.send('COMPACT 2');
      await contender.waitFor((l) => l === 'COMPACTED 5');
      contender.send('RELEASE');
      await contender.waitFor((l) => l === 'RELEASED');

      await ledger.flush();
      const stored = eventsOnDisk(dir).map((e) => e.eventId);
      expect(stored).toHaveLength(3);
      expect(stored[2]).toBe(queued.eventId);
      await waitUntil(() => ledger.eventCount === 3, 5_000, 'memory reloaded from the store');
      expect(ledger.getEvents().map((e) => e.eventId)).toEqual(stored);
      expect((await new LedgerHealthIndicator(ledger).isHealthy('ledger')).ledger).toMatchObject({ status: 'up', lockLost: false });
    } finally {
      await ledger.close();
    }
  });

  it(`two processes calling acquireLock() at the same instant: exactly one wins, ${RACE_TRIALS} trials`, async () => {
    const a = child(join(FIXTURES, 'lock-contender.js'));
    const b = child(join(FIXTURES, 'lock-contender.js'));
    const tally = { aWon: 0, bWon: 0, bothWon: 0, noneWon: 0 };
    for (let trial = 0; trial < RACE_TRIALS; trial++) {
      const dir = makeTempDir('ledger-race-');
      const from = { a: a.lines.length, b: b.lines.length };
      const at = Date.now() + 15;
      a.send(`GO ${dir} ${at}`);
      b.send(`GO ${dir} ${at}`);
      const [ra, rb] = await Promise.all([
        a.waitFor((l) => a.lines.indexOf(l, from.a) >= from.a && /^(WIN|LOCKED|ERR)/.test(l)),
        b.waitFor((l) => b.lines.indexOf(l, from.b) >= from.b && /^(WIN|LOCKED|ERR)/.test(l)),
      ]);
      if (ra === 'WIN' && rb === 'WIN') tally.bothWon++;
      else if (ra === 'WIN') tally.aWon++;
      else if (rb === 'WIN') tally.bWon++;
      else tally.noneWon++;
      if (ra === 'WIN') expect(rb).toBe(`LOCKED ${a.process.pid}`);
      if (rb === 'WIN') expect(ra).toBe(`LOCKED ${b.process.pid}`);
      const releaser = ra === 'WIN' ? a : b;
      const before = releaser.lines.length;
      releaser.send('RELEASE');
      await releaser.waitFor((l) => l === 'RELEASED' && releaser.lines.lastIndexOf(l) >= before);
    }
    console.log(`lock suite, simultaneous acquireLock(): ${JSON.stringify(tally)} over ${RACE_TRIALS} trials`);
    expect(tally.bothWon).toBe(0);
    expect(tally.noneWon).toBe(0);
    expect(tally.aWon + tally.bWon).toBe(RACE_TRIALS);
  }, 120_000);

  it('a lock whose holder was killed with kill -9 is taken over by the next opener', async () => {
    const dir = makeTempDir();
    const holder = child(join(FIXTURES, 'lock-contender.js'));
    holder.send(`HOLD ${dir} 30000`);
    await holder.waitFor((l) => l === 'HELD');
    const refused = await new FileEventStore({ storagePath: dir, logger: new CapturingLogger() }).open().catch((e) => e);
    expect(refused).toBeInstanceOf(LedgerLockedError);
    expect(refused.holderPid).toBe(holder.process.pid);
    expect(refused.message).toContain(`process ${holder.process.pid}`);

    await holder.kill9();
    const logger = new CapturingLogger();
    const next = new FileEventStore({ storagePath: dir, logger });
    await next.open();
    expect(logger.messages('warn').join()).toMatch(/Took over a stale ledger lock/);
    await next.close();
  });

  it('a live holder that runs longer than the stale threshold keeps its lock', async () => {
    const dir = makeTempDir();
    const holder = child(join(FIXTURES, 'lock-contender.js'));
    holder.send(`HOLD ${dir} 800`);
    await holder.waitFor((l) => l === 'HELD');
    for (let i = 0; i < 3; i++) {
      await sleep(700);
      const error = await new FileEventStore({ storagePath: dir, lockStaleMs: 800, logger: new CapturingLogger() }).acquireLock().catch((e) => e);
      expect(error).toBeInstanceOf(LedgerLockedError);
      expect(error.holderPid).toBe(holder.process.pid);
    }
  });

  it('two Nest apps on one storagePath: the second fails at startup with LedgerLockedError, the first keeps working', async () => {
    const dir = makeTempDir();
    const env = { LEDGER_STORAGE_PATH: dir, PORT: '0' };
    const first = child(SAMPLE_MAIN, [], env);
    const listening = await first.waitFor((l) => /listening on/.test(l));
    const port = /localhost:(\d+)/.exec(listening)![1];

    const second = child(SAMPLE_MAIN, [], env);
    const exit = await second.exited;
    expect(exit.code).not.toBe(0);
    expect(second.stderr + second.lines.join('\n')).toMatch(new RegExp(`LedgerLockedError.*locked by process ${first.process.pid}`));

    const response = await fetch(`http://127.0.0.1:${port}/runs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(runEventInput({ taskId: 'still-alive' })),
    });
    expect(response.status).toBe(201);
    expect(eventsOnDisk(dir).map((e) => e.taskId)).toEqual(['still-alive']);
  });
});
