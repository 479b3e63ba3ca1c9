/**
 * FeedHub: a writer's batches handed to its in-process tails.
 */
import { getEventListeners } from 'node:events';
import { FeedHub } from '../../lib/storage/feed-hub';

describe('FeedHub', () => {
  it('a follower waiting for batch after batch leaves no listener behind on its signal', async () => {
    const hub = new FeedHub();
    const subscription = hub.subscribe();
    const stop = new AbortController();
    for (let i = 0; i < 50; i++) {
      const next = subscription.next(stop.signal);
      hub.publish({ events: [], cursor: String(i), reset: false });
      await expect(next).resolves.toMatchObject({ cursor: String(i) });
    }
    expect(getEventListeners(stop.signal, 'abort')).toHaveLength(0);
    const waiting = subscription.next(stop.signal);
    stop.abort();
    await expect(waiting).resolves.toBeNull();
  });
});
