import { LoggerService } from '@nestjs/common';
import { RunEvent } from '../events/run-event.interface';
import { EventStore, FeedBatch } from '../storage/event-store';
import { LedgerFeedStatus } from './ledger-feed-status.interface';

/**
 * Follows a store's feed in the background (from `load()` to `close()`), hands each batch to the
 * ledger, and keeps the feed's status: when it last caught up, why it stopped, why it only polls.
 */
export class FeedFollower {
  private running: { stop: AbortController; done: Promise<void> } | null = null;
  private caughtUpAt: number | null = null;
  private error: Error | null = null;
  private polling: string | null = null;

  constructor(
    private readonly store: EventStore,
    private readonly logger: LoggerService,
    private readonly onBatch: (batch: FeedBatch) => void,
    private readonly known: (eventId: string) => RunEvent | undefined,
  ) {}

  /** Whether it follows now (started, not stopped). */
  get active(): boolean {
    return this.running !== null;
  }

  /** Follows from `after` (a cursor, `null` from the first event, `undefined` from now); resolves once caught up. */
  start(after: string | null | undefined): Promise<void> {
    this.error = null;
    const stop = new AbortController();
    let ready!: () => void;
    let failed!: (err: Error) => void;
    const caughtUp = new Promise<void>((resolve, reject) => {
      ready = resolve;
      failed = reject;
    });
    const done = (async () => {
      try {
        for await (const batch of this.store.tail({ after, signal: stop.signal, known: this.known })) {
          this.polling = batch.polling ?? null;
          this.onBatch(batch);
          if (batch.caughtUp) {
            this.caughtUpAt = Date.now();
            ready();
          }
        }
        ready();
      } catch (err) {
        failed(err as Error);
        if (stop.signal.aborted) return;
        this.error = err as Error;
        this.logger.error(`The ledger stopped following its store's feed: ${(err as Error).message}`, (err as Error).stack);
      }
    })();
    this.running = { stop, done };
    return caughtUp;
  }

  async stop(): Promise<void> {
    const running = this.running;
    this.running = null;
    if (!running) return;
    running.stop.abort();
    await running.done;
  }

  status(): LedgerFeedStatus {
    const following = this.running !== null && this.error === null;
    const lagMs = this.store.sharedByReplicas && this.caughtUpAt !== null ? Date.now() - this.caughtUpAt : null;
    return { following, lagMs, error: this.error?.message ?? null, polling: following ? this.polling : null };
  }
}
