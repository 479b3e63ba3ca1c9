import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Injectable, INestApplicationContext, Module } from '@nestjs/common';
import { ScheduleModule, SchedulerRegistry } from '@nestjs/schedule';
import { Test } from '@nestjs/testing';
import {
  EventStore,
  FileEventStore,
  LEDGER_COMPACTION_JOB,
  LedgerConfigError,
  LedgerLockedError,
  LedgerModule,
  LedgerModuleOptions,
  LedgerOptionsFactory,
  PersistentLedger,
} from '../../lib';
import { CapturingLogger } from '../helpers/capturing-logger';
import { eventsOnDisk } from '../helpers/ndjson';
import { runEventInput } from '../helpers/run-events';
import { makeTempDir, removeTempDirs } from '../helpers/temp-dir';

/** The real file store, with compaction slowed down and its concurrency counted. */
class SlowCompactionStore extends FileEventStore {
  active = 0;
  maxActive = 0;
  calls = 0;
  failWith: Error | null = null;

  override async compact(maxEvents: number): Promise<number> {
    this.calls++;
    this.active++;
    this.maxActive = Math.max(this.maxActive, this.active);
    try {
      await new Promise((r) => setTimeout(r, 100));
      if (this.failWith) throw this.failWith;
      return await super.compact(maxEvents);
    } finally {
      this.active--;
    }
  }
}

describe('LedgerModule', () => {
  const apps: INestApplicationContext[] = [];
  let logger: CapturingLogger;

  async function boot(ledgerImport: ReturnType<typeof LedgerModule.forRoot>, extra: { imports?: any[]; schedule?: boolean } = {}) {
    const moduleRef = await Test.createTestingModule({
      imports: [...(extra.schedule === false ? [] : [ScheduleModule.forRoot()]), ledgerImport, ...(extra.imports ?? [])],
    })
      .setLogger(logger)
      .compile();
    const app = moduleRef.createNestApplication({ logger });
    try {
      await app.init();
    } catch (err) {
      await app.close().catch(() => undefined);
      throw err;
    }
    apps.push(app);
    return app;
  }

  beforeEach(() => {
    logger = new CapturingLogger();
  });

  afterEach(async () => {
    for (const app of apps.splice(0)) await app.close();
    removeTempDirs();
  });

  it('forRoot: injects PersistentLedger and EventStore by class, loaded before the app serves', async () => {
    const dir = makeTempDir();
    const first = await boot(LedgerModule.forRoot({ storagePath: dir }));
    first.get(PersistentLedger).logEvent(runEventInput());
    await first.close();
    apps.pop();

    const app = await boot(LedgerModule.forRoot({ storagePath: dir }));
    const ledger = app.get(PersistentLedger);
    expect(ledger.eventCount).toBe(1);
    expect(app.get(EventStore)).toBe(ledger.getEventStore());
    expect(app.get(EventStore)).toBeInstanceOf(FileEventStore);
  });

  it('registers the compaction cron job under its documented name with the configured expression', async () => {
    const app = await boot(LedgerModule.forRoot({ storagePath: makeTempDir(), compaction: { cron: '*/7 * * * *' } }));
    const job = app.get(SchedulerRegistry).getCronJob(LEDGER_COMPACTION_JOB);
    expect(job.cronTime.source).toBe('*/7 * * * *');
    expect(job.isActive).toBe(true);
  });

  it('defaults to an hourly cron; compaction: false registers nothing and needs no ScheduleModule', async () => {
    const hourly = await boot(LedgerModule.forRoot({ storagePath: makeTempDir() }));
    expect(hourly.get(SchedulerRegistry).getCronJob(LEDGER_COMPACTION_JOB).cronTime.source).toBe('0 * * * *');
    const off = await boot(LedgerModule.forRoot({ storagePath: makeTempDir(), compaction: false }), { schedule: false });
    expect(off.get(PersistentLedger)).toBeInstanceOf(PersistentLedger);
  });

  it('forRootAsync with useFactory, imports and inject', async () => {
    const dir = makeTempDir();
    @Injectable()
    class AppConfig {
      readonly ledgerPath = dir;
    }
    @Module({ providers: [AppConfig], exports: [AppConfig] })
    class AppConfigModule {}

    const app = await boot(
      LedgerModule.forRootAsync({
        imports: [AppConfigModule],
        inject: [AppConfig],
        useFactory: async (config: AppConfig) => ({ storagePath: config.ledgerPath, maxEvents: 5 }),
      }),
    );
    const ledger = app.get(PersistentLedger);
    expect(ledger.maxEvents).toBe(5);
    ledger.logEvent(runEventInput());
    await ledger.flush();
    expect(eventsOnDisk(dir)).toHaveLength(1);
  });

  it('forRootAsync with useClass', async () => {
    const dir = makeTempDir();
    @Injectable()
    class LedgerConfigService implements LedgerOptionsFactory {
      createLedgerOptions(): LedgerModuleOptions {
        return { storagePath: dir, compaction: { cron: '30 2 * * *' } };
      }
    }
    const app = await boot(LedgerModule.forRootAsync({ useClass: LedgerConfigService }));
    expect(app.get(SchedulerRegistry).getCronJob(LEDGER_COMPACTION_JOB).cronTime.source).toBe('30 2 * * *');
  });

  it('forRootAsync with useExisting', async () => {
    const dir = makeTempDir();
    @Injectable()
    class SharedConfig implements LedgerOptionsFactory {
      createLedgerOptions(): LedgerModuleOptions {
        return { storagePath: dir, maxEvents: 42 };
      }
    }
    @Module({ providers: [SharedConfig], exports: [SharedConfig] })
    class SharedConfigModule {}
    const app = await boot(LedgerModule.forRootAsync({ imports: [SharedConfigModule], useExisting: SharedConfig }));
    expect(app.get(PersistentLedger).maxEvents).toBe(42);
  });

  it('isGlobal makes the ledger injectable in modules that do not import LedgerModule', async () => {
    @Injectable()
    class RunRecorder {
      constructor(readonly ledger: PersistentLedger) {}
    }
    @Module({ providers: [RunRecorder] })
    class FeatureModule {}
    const app = await boot(LedgerModule.forRoot({ storagePath: makeTempDir(), isGlobal: true }), { imports: [FeatureModule] });
    expect(app.get(RunRecorder).ledger).toBe(app.get(PersistentLedger));
  });

  it('a compaction tick evicts down to maxEvents', async () => {
    const dir = makeTempDir();
    const app = await boot(LedgerModule.forRoot({ storagePath: dir, maxEvents: 3, highWaterMark: 0 }));
    const ledger = app.get(PersistentLedger);
    for (let i = 0; i < 10; i++) ledger.logEvent(runEventInput({ timestamp: i }));
    await app.get(SchedulerRegistry).getCronJob(LEDGER_COMPACTION_JOB).fireOnTick();
    expect(ledger.getEvents().map((e) => e.timestamp)).toEqual([7, 8, 9]);
    expect(eventsOnDisk(dir).map((e) => e.timestamp)).toEqual([7, 8, 9]);
    expect(logger.messages('log').join('\n')).toMatch(/Compaction evicted 7 event/);
  });

  it('an interval compaction is registered as an interval and runs', async () => {
    const dir = makeTempDir();
    const app = await boot(LedgerModule.forRoot({ storagePath: dir, maxEvents: 2, highWaterMark: 0, compaction: { intervalMs: 50 } }));
    expect(app.get(SchedulerRegistry).getInterval(LEDGER_COMPACTION_JOB)).toBeDefined();
    const ledger = app.get(PersistentLedger);
    for (let i = 0; i < 6; i++) ledger.logEvent(runEventInput({ timestamp: i }));
    await new Promise((r) => setTimeout(r, 300));
    expect(ledger.eventCount).toBe(2);
  });

  it('ticks never overlap a running compaction', async () => {
    const dir = makeTempDir();
    const store = new SlowCompactionStore({ storagePath: dir });
    const app = await boot(LedgerModule.forRoot({ store, maxEvents: 1, highWaterMark: 0 }));
    const ledger = app.get(PersistentLedger);
    for (let i = 0; i < 5; i++) ledger.logEvent(runEventInput({ timestamp: i }));
    const job = app.get(SchedulerRegistry).getCronJob(LEDGER_COMPACTION_JOB);
    await Promise.all([job.fireOnTick(), job.fireOnTick(), ledger.compact(), job.fireOnTick()]);
    expect(store.maxActive).toBe(1);
    expect(store.calls).toBe(1);
    expect(eventsOnDisk(dir)).toHaveLength(1);
  });

  it('a failing compaction is logged and the app keeps running', async () => {
    const dir = makeTempDir();
    const store = new SlowCompactionStore({ storagePath: dir });
    store.failWith = new Error('compaction blew up');
    const app = await boot(LedgerModule.forRoot({ store, maxEvents: 1, highWaterMark: 0 }));
    const ledger = app.get(PersistentLedger);
    ledger.logEvent(runEventInput({ timestamp: 1 }));
    ledger.logEvent(runEventInput({ timestamp: 2 }));
    await app.get(SchedulerRegistry).getCronJob(LEDGER_COMPACTION_JOB).fireOnTick();
    expect(logger.messages('error').join('\n')).toMatch(/Compaction failed.*compaction blew up/);
    ledger.logEvent(runEventInput({ timestamp: 3 }));
    await ledger.flush();
    expect(eventsOnDisk(dir)).toHaveLength(3);
  });

  it('app.close() stops the job, flushes pending writes and releases the lock', async () => {
    const dir = makeTempDir();
    const app = await boot(LedgerModule.forRoot({ storagePath: dir, enableWAL: false }));
    const ledger = app.get(PersistentLedger);
    const registry = app.get(SchedulerRegistry);
    for (let i = 0; i < 250; i++) ledger.logEvent(runEventInput({ timestamp: i }));
    expect(eventsOnDisk(dir)).toHaveLength(0);
    await app.close();
    apps.pop();
    expect(registry.doesExist('cron', LEDGER_COMPACTION_JOB)).toBe(false);
    expect(eventsOnDisk(dir)).toHaveLength(250);
    expect(existsSync(join(dir, '.lock'))).toBe(false);
  });

  it('a second app on the same storagePath fails at startup with LedgerLockedError; the first keeps working', async () => {
    const dir = makeTempDir();
    const first = await boot(LedgerModule.forRoot({ storagePath: dir }));
    await expect(boot(LedgerModule.forRoot({ storagePath: dir }))).rejects.toBeInstanceOf(LedgerLockedError);
    const ledger = first.get(PersistentLedger);
    ledger.logEvent(runEventInput());
    await ledger.flush();
    expect(eventsOnDisk(dir)).toHaveLength(1);
  });

  it.each([
    [{ maxEvents: -1 }, 'maxEvents'],
    [{ maxEvents: 1.5 }, 'maxEvents'],
    [{ storagePath: '' }, 'storagePath'],
    [{ storagePath: '   ' }, 'storagePath'],
    [{ compaction: { cron: 'every hour' } }, 'compaction.cron'],
    [{ compaction: { intervalMs: 0 } }, 'compaction.intervalMs'],
    [{ compaction: 'hourly' }, 'compaction'],
    [{ highWaterMark: 5, maxEvents: 10 }, 'highWaterMark'],
    [{ evaluators: [{ name: 'x' }] }, 'evaluators[0]'],
  ])('fails at startup on invalid options %j, naming %s', async (options, option) => {
    const attempt = boot(LedgerModule.forRoot({ storagePath: makeTempDir(), ...(options as LedgerModuleOptions) }));
    const error = await attempt.catch((e) => e);
    expect(error).toBeInstanceOf(LedgerConfigError);
    expect(error.option).toBe(option);
    expect(error.message).toContain(`"${option}"`);
  });

  it.each([
    // What forRootAsync gives when a config key is unset: refused like 0, not a zero-delay timer.
    [{ compaction: { intervalMs: undefined } }, 'compaction.intervalMs', /positive integer of milliseconds \(got undefined\)/],
    [{ compaction: { intervalMs: 2 ** 31 } }, 'compaction.intervalMs', /at most 2147483647 ms/],
    // The message says what a valid expression looks like, not the parser's "Unknown alias: eve".
    [
      { compaction: { cron: 'every hour' } },
      'compaction.cron',
      /^Invalid nestjs-ledger option "compaction.cron": "every hour" is not a valid cron expression \(it has 2 fields\): expected 5 fields \(minute hour day-of-month month day-of-week\) such as "0 \* \* \* \*" \(every hour\), 6 with seconds first, or an alias such as "@hourly" or "@daily"$/,
    ],
    [
      { compaction: { cron: '@hour' } },
      'compaction.cron',
      /"@hour" is not a valid cron expression \(unknown alias; known: @yearly, @monthly, @weekly, @daily, @hourly.*\): expected 5 fields/,
    ],
    [
      { compaction: { cron: '61 * * * *' } },
      'compaction.cron',
      /"61 \* \* \* \*" is not a valid cron expression \(field value \(61\) is out of range\): expected 5 fields/,
    ],
    [
      { compaction: { cron: '0 every * * *' } },
      'compaction.cron',
      /\("every" is not a number, range, step or month or day name\): expected 5 fields/,
    ],
    [
      { compaction: { cron: '0 * * * *', timeZone: 'Mars/Olympus_Mons' } },
      'compaction.timeZone',
      /"Mars\/Olympus_Mons" is not a known IANA time zone/,
    ],
    [{ compaction: { cron: '0 * * * *', timezone: 'UTC' } }, 'compaction.timezone', /did you mean "compaction.timeZone"\?/],
    [{ storagepath: '/tmp/x' }, 'storagepath', /is not a nestjs-ledger option; did you mean "storagePath"\?/],
    [{ maxEvent: 5 }, 'maxEvent', /did you mean "maxEvents"\?/],
    [{ storage: { type: 'postgres', connectionString: 'postgres://x', tabel: 't' } }, 'storage.tabel', /did you mean "storage.table"\?/],
    // ConfigService returns strings: the message says the type, so "5000" does not read as valid.
    [{ maxEvents: '5000' }, 'maxEvents', /must be a positive integer \(got string "5000"\)/],
    [{ enableWAL: 'false' }, 'enableWAL', /must be a boolean \(got string "false"\)/],
    [{ maxViolations: -1 }, 'maxViolations', /non-negative integer \(got number -1\)/],
    [{ maxReworkRatio: '0.3' }, 'maxReworkRatio', /non-negative number \(got string "0.3"\)/],
    [{ forbiddenCommandPatterns: ['rm -rf'] }, 'forbiddenCommandPatterns[0]', /must be a RegExp \(got string "rm -rf"\)/],
    [{ forbiddenDependencies: 'left-pad' }, 'forbiddenDependencies', /must be an array of package names/],
    [{ store: {} }, 'store', /must be an EventStore instance/],
  ])('checks %j before anything is opened, naming %s', async (options, option, problem) => {
    const dir = makeTempDir();
    const error = await boot(LedgerModule.forRoot({ storagePath: dir, ...(options as LedgerModuleOptions) })).catch((e) => e);
    expect(error).toBeInstanceOf(LedgerConfigError);
    expect(error.option).toBe(option);
    expect(error.message).toMatch(problem);
    // Nothing was opened: no lock left behind, no store created.
    expect(existsSync(join(dir, '.lock'))).toBe(false);
    expect(existsSync(join(dir, 'events.ndjson'))).toBe(false);
  });

  it("two LedgerModule.forRoot() with compaction in one app fail with the library's own message before any store is opened", async () => {
    const [a, b] = [makeTempDir(), makeTempDir()];
    @Module({ imports: [LedgerModule.forRoot({ storagePath: b })] })
    class OtherFeature {}
    const error = await boot(LedgerModule.forRoot({ storagePath: a }), { imports: [OtherFeature] }).catch((e) => e);
    expect(error).toBeInstanceOf(LedgerConfigError);
    expect(error.message).toMatch(/LedgerModule\.forRoot\(\) is imported more than once in this application with compaction on/);
    expect(error.message).not.toMatch(/already exists/);
    expect([a, b].filter((dir) => existsSync(join(dir, '.lock')))).toHaveLength(0);
    // With compaction off on the second, both work.
    @Module({ imports: [LedgerModule.forRoot({ storagePath: makeTempDir(), compaction: false })] })
    class QuietFeature {}
    const app = await boot(LedgerModule.forRoot({ storagePath: makeTempDir() }), { imports: [QuietFeature] });
    expect(app.get(SchedulerRegistry).doesExist('cron', LEDGER_COMPACTION_JOB)).toBe(true);
  });

  it('explains that ScheduleModule.forRoot() is needed when compaction is scheduled', async () => {
    const error = await boot(LedgerModule.forRoot({ storagePath: makeTempDir() }), { schedule: false }).catch((e) => e);
    expect(error).toBeInstanceOf(LedgerConfigError);
    expect(error.message).toMatch(/ScheduleModule\.forRoot\(\)/);
  });
});
