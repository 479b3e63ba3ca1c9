/**
 * ReplicaMirror without PostgreSQL: memory in the store's order, own events read back before the
 * feed delivers them, rebuilds, and own events evicted elsewhere before their delivery.
 */
import { RunEvent } from '../../lib';
import { FeedBatch } from '../../lib/storage/event-store';
import { ReplicaMirror } from '../../lib/ledger/replica-mirror';
import { runEventInput } from '../helpers/run-events';

function event(eventId: string): RunEvent {
  return { ...runEventInput(), eventId } as RunEvent;
}

function batch(ids: string[], flags: Partial<FeedBatch> = {}): FeedBatch {
  return { events: ids.map(event), cursor: 'c', caughtUp: true, reset: false, ...flags };
}

function mirrored(): { mirror: ReplicaMirror; ids: () => string[]; own: (...ids: string[]) => RunEvent[] } {
  let events: RunEvent[] = [];
  const mirror = new ReplicaMirror({
    events: () => events,
    replaceEvents: (next) => {
      events = next;
      mirror.memoryReplaced(next);
    },
    noteEventId: () => undefined,
  });
  return {
    mirror,
    ids: () => events.map((e) => e.eventId),
    own: (...ids) => {
      const logged = ids.map(event);
      events.push(...logged);
      mirror.ownAppended(logged);
      return logged;
    },
  };
}

describe('ReplicaMirror', () => {
  it('keeps own events after the committed part until the feed delivers them, then in store order', () => {
    const { mirror, ids, own } = mirrored();
    mirror.startRebuild();
    expect(mirror.apply(batch(['x1']))).toEqual({ stored: [], toCheck: [] });
    const [a, b] = own('a', 'b');
    expect(mirror.known('a')).toBe(a);
    const update = mirror.apply(batch(['x2', 'b']));
    expect(update.stored.map((e) => e.eventId)).toEqual(['x2', 'b']);
    expect(ids()).toEqual(['x1', 'x2', 'b', 'a']);
    expect(mirror.known('b')).toBeUndefined();
    expect(mirror.known('a')).toBe(a);
    mirror.apply({ ...batch([]), events: [a] });
    expect(ids()).toEqual(['x1', 'x2', 'b', 'a']);
    expect(mirror.known('a')).toBeUndefined();
    expect(b.eventId).toBe('b');
  });

  it('a rebuild replaces memory with the store and keeps the own events it did not deliver, handing them over to check', () => {
    const { mirror, ids, own } = mirrored();
    mirror.startRebuild();
    mirror.apply(batch(['x1', 'x2']));
    own('a', 'b');
    expect(mirror.apply(batch(['x2'], { reset: true, caughtUp: false }))).toEqual({ stored: [], toCheck: [] });
    const update = mirror.apply(batch(['b']));
    expect(update.toCheck.map((e) => e.eventId)).toEqual(['a']);
    expect(ids()).toEqual(['x2', 'b', 'a']);
  });

  it('the phantom race: an own event committed, evicted by another replica, then missing from the rebuild, leaves memory once checked', () => {
    const { mirror, ids, own } = mirrored();
    mirror.startRebuild();
    mirror.apply(batch(['x1']));
    own('a', 'b');
    // A compaction elsewhere evicted 'a' (committed, not delivered); 'b' commits after the rebuild's snapshot.
    const { toCheck } = mirror.apply(batch(['x1'], { reset: true }));
    expect(toCheck.map((e) => e.eventId)).toEqual(['a', 'b']);
    expect(ids()).toEqual(['x1', 'a', 'b']);
    expect(mirror.dropEvicted(toCheck, new Set(['b']))).toBe(1);
    expect(ids()).toEqual(['x1', 'b']);
    mirror.apply(batch(['b']));
    expect(ids()).toEqual(['x1', 'b']);
    expect(mirror.known('b')).toBeUndefined();
  });

  it('an own event delivered before the check is never dropped, whatever the check saw', () => {
    const { mirror, ids, own } = mirrored();
    mirror.startRebuild();
    own('a');
    const { toCheck } = mirror.apply(batch([]));
    mirror.apply(batch(['a']));
    expect(mirror.dropEvicted(toCheck, new Set())).toBe(0);
    expect(ids()).toEqual(['a']);
  });
});
