/** Edit distance (Levenshtein), to suggest the name a misspelt one meant. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
}

/**
 * The name of `known` that `name` most likely misspells (same letters in another case, or a few
 * edits away: at most 2, or a third of its length), or undefined when none is that close.
 * What "did you mean" suggests for an unknown option and for an unknown event field.
 */
export function closestName(name: string, known: Iterable<string>): string | undefined {
  const lower = name.toLowerCase();
  const allowed = Math.max(2, Math.floor(name.length / 3));
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const k = candidate.toLowerCase();
    // The distance is at least the difference in length: most candidates need no counting.
    if (Math.abs(k.length - lower.length) > allowed) continue;
    const d = k === lower ? 0 : editDistance(lower, k);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return bestDistance <= allowed ? best : undefined;
}
