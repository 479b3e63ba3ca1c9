import { EventStore } from './event-store';
import { ProgressListener } from './store-verification.interface';

/** What {@link copyEvents} did. */
export interface CopyEventsResult {
  /** Events read from the source. */
  read: number;
  /** Of those, events the target did not hold yet (the others were skipped). */
  copied: number;
  /** Events the target holds afterwards. */
  targetCount: number;
}

/** Events written to the target per flush. */
const FLUSH_EVERY = 5_000;

/**
 * Copies every event of `source` into `target`, in order, keeping their ids. It can run again
 * after an interruption: events the target already holds are skipped (by the target itself when
 * its writes skip held ids, as PostgreSQL's do: see `EventStore.eventsWrittenAnew`; otherwise by
 * reading its ids first). Opens both stores (an NDJSON store's lock refuses while an app writes
 * it) and closes both.
 */
export async function copyEvents(source: EventStore, target: EventStore, onProgress?: ProgressListener): Promise<CopyEventsResult> {
  try {
    await source.open();
    await target.open();
    const insertedBefore = target.eventsWrittenAnew();
    const deduplicatedByTarget = insertedBefore !== null;
    const held = new Set<string>();
    if (!deduplicatedByTarget) for await (const batch of target.readBatches()) for (const event of batch) held.add(event.eventId);
    const { eventCount: total } = await source.getStats();
    let read = 0;
    let enqueued = 0;
    let sinceFlush = 0;
    for await (const batch of source.readBatches()) {
      read += batch.length;
      const fresh = deduplicatedByTarget ? batch : batch.filter((event) => !held.has(event.eventId));
      for (const event of fresh) held.add(event.eventId);
      if (fresh.length > 0) target.enqueue(fresh);
      enqueued += fresh.length;
      sinceFlush += fresh.length;
      if (sinceFlush >= FLUSH_EVERY) {
        await target.flush();
        sinceFlush = 0;
      }
      onProgress?.(read, Math.max(total, read));
    }
    await target.flush();
    const copied = deduplicatedByTarget ? (target.eventsWrittenAnew() ?? 0) - insertedBefore : enqueued;
    const { eventCount: targetCount } = await target.getStats();
    return { read, copied, targetCount };
  } finally {
    await source.close().catch(() => undefined);
    await target.close().catch(() => undefined);
  }
}
