/**
 * Which events a compaction keeps: the newest `maxEvents` by timestamp. Among
 * events that share the cut-off timestamp the later-appended ones are kept, as
 * a stable sort by timestamp followed by "keep the last maxEvents" would.
 */
export interface RetentionPlan {
  /** Events with a timestamp above this are kept. */
  cutoff: number;
  /** How many events exactly at `cutoff` are evicted, counting from the earliest appended. */
  tiesToEvict: number;
  /** Events the plan evicts. */
  evicted: number;
}

/**
 * Plans a compaction over the timestamps of the stored events, in append order.
 * NaN entries stand for unreadable lines and are neither kept nor counted.
 * Returns null when nothing needs evicting.
 */
export function planRetention(timestamps: ArrayLike<number>, maxEvents: number): RetentionPlan | null {
  const valid = new Float64Array(timestamps.length);
  let count = 0;
  for (let i = 0; i < timestamps.length; i++) {
    const ts = timestamps[i];
    if (!Number.isNaN(ts)) valid[count++] = ts;
  }
  if (count <= maxEvents) return null;
  if (maxEvents === 0) return { cutoff: Infinity, tiesToEvict: 0, evicted: count };
  const sorted = valid.subarray(0, count).sort();
  const cutoff = sorted[count - maxEvents];
  let above = 0;
  let ties = 0;
  for (let i = 0; i < count; i++) {
    if (sorted[i] > cutoff) above++;
    else if (sorted[i] === cutoff) ties++;
  }
  const tiesKept = maxEvents - above;
  return { cutoff, tiesToEvict: ties - tiesKept, evicted: count - maxEvents };
}

/** Returns a predicate to call once per event, in append order, that says whether to keep it. */
export function retentionFilter(plan: RetentionPlan): (timestamp: number) => boolean {
  let tiesSeen = 0;
  return (timestamp) => {
    if (timestamp > plan.cutoff) return true;
    if (timestamp === plan.cutoff) return tiesSeen++ >= plan.tiesToEvict;
    return false;
  };
}
