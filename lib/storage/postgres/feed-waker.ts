/** Wakes a PostgreSQL feed: LISTEN on a connection of its own, polling when that is refused or lost. */
import type { LoggerService } from '@nestjs/common';
import type { FeedWakeup } from '../feed-follow-loop';
import type { PgClientLike, PgPoolLike } from './pg-pool.interface';

/** How long a tail whose `LISTEN` was refused polls before it tries `LISTEN` again. */
const LISTEN_RETRY_MS = 30_000;

/**
 * Wakes a tail when a batch commits (`LISTEN` on a connection of its own), or
 * when its poll interval has passed. When `LISTEN` is refused (e.g. behind a
 * transaction pooler) the tail polls and tries again after {@link LISTEN_RETRY_MS};
 * a lost or unobtainable listening connection is tried again on the next look.
 */
export class FeedWaker implements FeedWakeup {
  private client: PgClientLike | null = null;
  private detach: (() => void) | null = null;
  private broken: Error | null = null;
  private notified = false;
  private wake: (() => void) | null = null;
  /** Why the last `LISTEN` failed, while the tail polls instead. */
  private failure: string | null = null;
  private retryAt = 0;

  constructor(
    private readonly pool: PgPoolLike,
    private readonly channel: string,
    private readonly enabled: boolean,
    private readonly pollIntervalMs: number,
    private readonly logger: LoggerService,
  ) {}

  /** Why the tail only polls now, or null when notifications wake it (or `listen: false` chose polling). */
  get pollingReason(): string | null {
    if (!this.enabled) return null;
    if (this.failure !== null) return `LISTEN failed (${this.failure}); the feed polls every ${this.pollIntervalMs} ms`;
    if (this.broken !== null) return `the listening connection was lost (${this.broken.message}); the feed polls until it is back`;
    return null;
  }

  /** Listens when it does not yet and may try; never throws (a failure is logged once and reported by `pollingReason`). */
  async ensureListening(): Promise<void> {
    if (!this.enabled) return;
    if (this.client && !this.broken) return;
    if (Date.now() < this.retryAt) return;
    await this.close();
    try {
      const client = await this.pool.connect();
      const onError = (err: Error) => {
        this.broken = err;
        this.wake?.();
      };
      const onNotification = () => {
        this.notified = true;
        this.wake?.();
      };
      const events = client as unknown as { on(event: string, listener: () => void): unknown; off(event: string, listener: () => void): unknown };
      client.on('error', onError);
      events.on('notification', onNotification);
      this.detach = () => {
        client.off('error', onError);
        events.off('notification', onNotification);
      };
      this.client = client;
      this.broken = null;
      try {
        await client.query(`LISTEN ${this.channel}`);
      } catch (err) {
        this.broken = err as Error;
        await this.close();
        // Refused by the server or a pooler: it will not work on the next look either.
        this.retryAt = Date.now() + LISTEN_RETRY_MS;
        throw err;
      }
      if (this.failure !== null) this.logger.log(`Ledger feed listens again (LISTEN ${this.channel}); it no longer only polls`);
      this.failure = null;
    } catch (err) {
      if (this.failure === null)
        this.logger.warn(`Ledger feed cannot LISTEN (${(err as Error).message}); it polls every ${this.pollIntervalMs} ms meanwhile`);
      this.failure = (err as Error).message;
    }
  }

  /** Waits for a notification (one that came meanwhile counts), `ms`, or the signal. */
  async wait(ms: number, signal: AbortSignal): Promise<void> {
    if (this.notified) {
      this.notified = false;
      return;
    }
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        this.wake = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener('abort', done, { once: true });
      this.wake = done;
    });
    this.notified = false;
  }

  /** Stops listening and gives the connection back (a broken one is discarded). */
  async close(): Promise<void> {
    const client = this.client;
    this.client = null;
    if (!client) return;
    if (!this.broken) await client.query(`UNLISTEN ${this.channel}`).catch(() => undefined);
    this.detach?.();
    this.detach = null;
    client.release(this.broken ?? undefined);
  }
}
