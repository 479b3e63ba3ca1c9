/** Epoch milliseconds JavaScript's `Date` can hold (±8.64e15, about ±273,790 years around 1970). */
const MAX_DATE_MS = 8.64e15;

/**
 * A time for people: ISO 8601 when it is a date, otherwise the stored number marked
 * `(not a date)`, so that a value another tool stored never makes a command fail.
 */
export function displayTime(ms: number): string {
  if (Number.isFinite(ms) && Math.abs(ms) <= MAX_DATE_MS) return new Date(ms).toISOString();
  return `${String(ms)} (not a date)`;
}

/** A size for people, in the unit that fits it: `1023 B`, `1.0 KiB`, `5.3 MiB`, `3.00 GiB`. */
export function displayBytes(bytes: number): string {
  if (bytes < 1024) return `${Math.round(bytes)} B`;
  if (bytes < 1024 ** 2) return `${(bytes / 1024).toFixed(1)} KiB`;
  if (bytes < 1024 ** 3) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
  return `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
}
