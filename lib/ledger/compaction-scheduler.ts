import { LoggerService } from '@nestjs/common';

/**
 * When a ledger compacts outside Nest: every `intervalMs` (0: never) and as soon as memory passes
 * `highWaterMark` (0: never). One compaction at a time: calls made while one runs share its result.
 */
export class CompactionScheduler {
  private timer: NodeJS.Timeout | null = null;
  private current: Promise<number> | null = null;

  constructor(
    private readonly run: () => Promise<number>,
    private readonly intervalMs: number,
    private readonly highWaterMark: number,
    private readonly logger: LoggerService,
  ) {}

  /** Compacts now, or joins the compaction that runs; resolves with the evicted count. */
  compact(): Promise<number> {
    this.current ??= this.run().finally(() => (this.current = null));
    return this.current;
  }

  get isRunning(): boolean {
    return this.current !== null;
  }

  /** Resolves when no compaction is running. */
  async whenIdle(): Promise<void> {
    await this.current?.catch(() => undefined);
  }

  /** Starts a compaction in the background if `heldEvents` passed the high-water mark and none runs. */
  checkHighWaterMark(heldEvents: number): void {
    if (this.highWaterMark > 0 && heldEvents > this.highWaterMark && !this.current) {
      this.compact().catch((err) => this.logger.error(`High-water-mark compaction failed: ${(err as Error).message}`, (err as Error).stack));
    }
  }

  startTimer(): void {
    if (this.intervalMs <= 0 || this.timer) return;
    this.timer = setInterval(() => {
      this.compact().catch((err) => this.logger.error(`Scheduled compaction failed: ${(err as Error).message}`, (err as Error).stack));
    }, this.intervalMs);
    this.timer.unref();
  }

  stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
