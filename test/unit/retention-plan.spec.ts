/**
 * planRetention / retentionFilter: which events a compaction keeps.
 */
import fc from 'fast-check';
import { planRetention, retentionFilter } from '../../lib/storage/retention-plan';

describe('planRetention / retentionFilter', () => {
  /** The rule stated simply: sort stably by timestamp and keep the last maxEvents. */
  function reference(timestamps: number[], maxEvents: number): boolean[] {
    const order = timestamps.map((ts, i) => ({ ts, i })).sort((a, b) => a.ts - b.ts || a.i - b.i);
    const kept = new Set(order.slice(Math.max(0, order.length - maxEvents)).map((o) => o.i));
    return timestamps.map((_, i) => kept.has(i));
  }

  it('keeps the newest maxEvents by timestamp, the later-appended among ties, as a stable sort would', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 40 }), fc.nat({ max: 45 }), (timestamps, maxEvents) => {
        const plan = planRetention(timestamps, maxEvents);
        if (timestamps.length <= maxEvents) {
          expect(plan).toBeNull();
          return;
        }
        const keep = retentionFilter(plan!);
        const kept = timestamps.map((ts) => keep(ts));
        expect(kept).toEqual(reference(timestamps, maxEvents));
        expect(plan!.evicted).toBe(timestamps.length - maxEvents);
      }),
      { numRuns: 1_000 },
    );
  });

  it('ignores NaN entries (unreadable lines): they are neither kept nor counted', () => {
    expect(planRetention([1, NaN, 2, NaN], 2)).toBeNull();
    const plan = planRetention([3, NaN, 1, 2], 2)!;
    expect(plan.evicted).toBe(1);
    const keep = retentionFilter(plan);
    expect([3, 1, 2].map((ts) => keep(ts))).toEqual([true, false, true]);
  });

  it('maxEvents 0 evicts everything', () => {
    const plan = planRetention([1, 2, 3], 0)!;
    expect(plan.evicted).toBe(3);
    const keep = retentionFilter(plan);
    expect([1, 2, 3].map((ts) => keep(ts))).toEqual([false, false, false]);
  });
});
