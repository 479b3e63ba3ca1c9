import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleInit, Optional } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import type { CronJob } from 'cron';
import { LedgerConfigError } from '../errors/ledger-config.error';
import { PersistentLedger } from '../ledger/persistent-ledger';
import { ResolvedModuleOptions } from '../options/ledger-options.resolver';
import { LEDGER_COMPACTION_JOB, LEDGER_RESOLVED_OPTIONS } from './ledger.constants';
import { releaseCompactionJob } from './ledger.providers';
import { loadCron } from '../peers/load-cron';

/**
 * The retention compaction job: registered in `SchedulerRegistry` as
 * `nestjs-ledger:compaction` on bootstrap (a cron job or an interval), and
 * stopped at shutdown. A tick never overlaps a running compaction; a failing
 * compaction is logged and the app keeps running.
 */
@Injectable()
export class LedgerCompactionJob implements OnModuleInit, OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('LedgerModule');
  private cronJob: CronJob | null = null;
  private interval: NodeJS.Timeout | null = null;

  constructor(
    @Inject(LEDGER_RESOLVED_OPTIONS) private readonly options: ResolvedModuleOptions,
    private readonly ledger: PersistentLedger,
    @Optional() private readonly schedulerRegistry?: SchedulerRegistry,
  ) {}

  onModuleInit(): void {
    if (this.options.compaction === false || !this.schedulerRegistry) return;
    if (this.schedulerRegistry.doesExist('cron', LEDGER_COMPACTION_JOB) || this.schedulerRegistry.doesExist('interval', LEDGER_COMPACTION_JOB)) {
      throw new LedgerConfigError(
        'compaction',
        `a job named "${LEDGER_COMPACTION_JOB}" is already registered: import LedgerModule.forRoot once per application`,
      );
    }
  }

  onApplicationBootstrap(): void {
    const compaction = this.options.compaction;
    if (compaction === false || !this.schedulerRegistry) return;
    if ('cron' in compaction) {
      this.cronJob = loadCron().CronJob.from({
        cronTime: compaction.cron,
        onTick: () => this.runCompaction(),
        start: false,
        timeZone: compaction.timeZone,
        waitForCompletion: true,
      });
      this.schedulerRegistry.addCronJob(LEDGER_COMPACTION_JOB, this.cronJob);
      this.cronJob.start();
    } else {
      this.interval = setInterval(() => void this.runCompaction(), compaction.intervalMs);
      this.schedulerRegistry.addInterval(LEDGER_COMPACTION_JOB, this.interval);
    }
  }

  /** One compaction tick: skipped while a compaction runs; failures are logged, never thrown. */
  async runCompaction(): Promise<void> {
    if (this.ledger.isCompacting) {
      this.logger.warn('Compaction tick skipped: the previous compaction is still running');
      return;
    }
    try {
      const evicted = await this.ledger.compact();
      if (evicted > 0) this.logger.log(`Compaction evicted ${evicted} event(s), keeping the newest ${this.ledger.maxEvents}`);
    } catch (err) {
      this.logger.error(
        `Compaction failed; the ledger keeps running and will retry on the next tick: ${(err as Error).message}`,
        (err as Error).stack,
      );
    }
  }

  /** Stops the job (no tick starts from here on) and releases its name. */
  beforeApplicationShutdown(): void {
    this.cronJob?.stop();
    if (this.interval) clearInterval(this.interval);
    const registry = this.schedulerRegistry;
    if (registry?.doesExist('cron', LEDGER_COMPACTION_JOB)) registry.deleteCronJob(LEDGER_COMPACTION_JOB);
    if (registry?.doesExist('interval', LEDGER_COMPACTION_JOB)) registry.deleteInterval(LEDGER_COMPACTION_JOB);
    if (this.options.compaction !== false) releaseCompactionJob(registry);
  }
}
