import { RunEvent } from '../events/run-event.interface';

/** What a store's writer publishes: events it made durable (or a rewrite), and the cursor after them. */
export interface HubItem {
  events: RunEvent[];
  cursor: string;
  /** The content was rewritten (compaction, writeAll): followers start over. */
  reset: boolean;
}

/** One follower's buffer: items published since it subscribed, in order, until it reads them. */
export class HubSubscription {
  private readonly items: HubItem[] = [];
  private wake: (() => void) | null = null;
  closed = false;

  constructor(private readonly onClose: (s: HubSubscription) => void) {}

  /** Called by the hub. */
  push(item: HubItem): void {
    this.items.push(item);
    this.wake?.();
  }

  /** The next item, waiting for one; null once closed or `signal` aborted. */
  async next(signal?: AbortSignal): Promise<HubItem | null> {
    while (this.items.length === 0) {
      if (this.closed || signal?.aborted) return null;
      let onAbort: (() => void) | undefined;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        onAbort = () => resolve();
        signal?.addEventListener('abort', onAbort, { once: true });
      });
      // Removed after every wait: a long-lived follower would otherwise collect one listener per batch.
      if (onAbort) signal?.removeEventListener('abort', onAbort);
      this.wake = null;
    }
    return this.items.shift()!;
  }

  close(): void {
    this.closed = true;
    this.onClose(this);
    this.wake?.();
  }
}

/**
 * Hands what a store's writer made durable to the store's tails in this
 * process, in order. Nothing is kept for followers that are not subscribed.
 */
export class FeedHub {
  private readonly subscriptions = new Set<HubSubscription>();

  subscribe(): HubSubscription {
    const subscription = new HubSubscription((s) => this.subscriptions.delete(s));
    this.subscriptions.add(subscription);
    return subscription;
  }

  publish(item: HubItem): void {
    for (const subscription of this.subscriptions) subscription.push(item);
  }

  /** Ends every tail (the store closed). */
  closeAll(): void {
    for (const subscription of [...this.subscriptions]) subscription.close();
  }
}
