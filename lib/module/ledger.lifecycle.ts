import {
  BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnApplicationShutdown,
  OnModuleInit,
  Optional,
} from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import type { CronJob } from 'cron';
import { LedgerConfigError } from '../errors/ledger-config.error';
import { LEDGER_COMPACTION_JOB, LEDGER_RESOLVED_OPTIONS } from './ledger.constants';
import { ResolvedLedgerOptions } from '../options/ledger-options.resolver';
import { PersistentLedger } from '../ledger/persistent-ledger';
import { releaseCompactionJob } from './ledger.providers';
import { loadCron } from './load-cron';

/**
 * Mounts the compaction job on bootstrap and, on shutdown, stops it, waits for
 * a compaction in progress, flushes pending writes and releases the store.
 * Shutdown hooks log failures and never throw.
 */
@Injectable()
export class LedgerLifecycle implements OnModuleInit, OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger('LedgerModule');
  private cronJob: CronJob | null = null;
  private interval: NodeJS.Timeout | null = null;

  constructor(
    @Inject(LEDGER_RESOLVED_OPTIONS) private readonly options: ResolvedLedgerOptions,
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

  async beforeApplicationShutdown(): Promise<void> {
    try {
      this.stopJob();
      await this.ledger.whenIdle();
      await this.ledger.flush();
    } catch (err) {
      this.logger.error(`Flushing the ledger at shutdown failed: ${(err as Error).message}`, (err as Error).stack);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.options.compaction !== false) releaseCompactionJob(this.schedulerRegistry);
    try {
      await this.ledger.destroy();
    } catch (err) {
      this.logger.error(`Closing the ledger at shutdown failed: ${(err as Error).message}`, (err as Error).stack);
    }
  }

  private stopJob(): void {
    this.cronJob?.stop();
    if (this.interval) clearInterval(this.interval);
    const registry = this.schedulerRegistry;
    if (registry?.doesExist('cron', LEDGER_COMPACTION_JOB)) registry.deleteCronJob(LEDGER_COMPACTION_JOB);
    if (registry?.doesExist('interval', LEDGER_COMPACTION_JOB)) registry.deleteInterval(LEDGER_COMPACTION_JOB);
  }
}
