/** The first and last instants a JavaScript `Date` can hold (±100,000,000 days around 1970), epoch ms. */
export const MIN_DATE_MS = -8.64e15;
export const MAX_DATE_MS = 8.64e15;

/** The most buckets a series has: the bucket widens (hour, day, week, month, year, 10 years, ...) until the range fits. */
export const MAX_BUCKETS = 60;

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
const WEEK_MS = 7 * DAY_MS;
/** 1970-01-01 was a Thursday: weeks start on the Monday three days before. */
const MONDAY_OFFSET_MS = 3 * DAY_MS;

/** Whether a stored timestamp is a date (a JavaScript `Date` can hold it, so it can be shown and bucketed). */
export function isDateTimestamp(timestamp: number): boolean {
  return timestamp >= MIN_DATE_MS && timestamp <= MAX_DATE_MS;
}

/** A bucket width of the charts, in UTC: where the bucket holding `t` starts, and where the next one starts. */
interface BucketUnit {
  label: string;
  startOf(t: number): number;
  next(start: number): number;
}

const fixed = (label: string, width: number, offset = 0): BucketUnit => ({
  label,
  startOf: (t) => Math.floor((t + offset) / width) * width - offset,
  next: (start) => start + width,
});

/**
 * The UTC start of month `month` (0-11, may overflow into later years) of `year`, epoch ms, by
 * calendar arithmetic (days from the civil date), so that it also holds past the last date.
 */
function monthStart(year: number, month: number): number {
  const y = year + Math.floor(month / 12) - (((month % 12) + 12) % 12 < 2 ? 1 : 0);
  const m = (((month % 12) + 12) % 12) + 1;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (m > 2 ? m - 3 : m + 9) + 2) / 5);
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return (era * 146_097 + dayOfEra - 719_468) * DAY_MS;
}

/** Buckets of `count` calendar months; the first date's bucket starts at the first date (its month began before it). */
const months = (label: string, count: number): BucketUnit => {
  const index = (t: number) => {
    const date = new Date(t);
    return Math.floor((date.getUTCFullYear() * 12 + date.getUTCMonth()) / count) * count;
  };
  return {
    label,
    startOf: (t) => Math.max(monthStart(0, index(t)), MIN_DATE_MS),
    next: (start) => monthStart(0, index(start) + count),
  };
};

/** Widest last: the first whose buckets over a range number at most {@link MAX_BUCKETS}. */
const UNITS: BucketUnit[] = [
  fixed('hour', HOUR_MS),
  fixed('day', DAY_MS),
  fixed('week', WEEK_MS, MONDAY_OFFSET_MS),
  months('month', 1),
  months('year', 12),
  months('10 years', 120),
  months('100 years', 1_200),
  months('1,000 years', 12_000),
  months('10,000 years', 120_000),
];

/** One bucket of a series: `[start, end)`, epoch ms. */
export interface TimeBucket {
  start: number;
  end: number;
}

/**
 * The buckets covering `[first, last]` (two dates, `first <= last`), contiguous, in UTC calendar
 * units: the narrowest unit giving at most {@link MAX_BUCKETS} of them, and its name.
 */
export function timeBuckets(first: number, last: number): { label: string; buckets: TimeBucket[] } {
  for (const unit of UNITS) {
    const buckets: TimeBucket[] = [];
    for (let start = unit.startOf(first); start <= last && buckets.length <= MAX_BUCKETS;) {
      const end = unit.next(start);
      buckets.push({ start, end });
      start = end;
    }
    if (buckets.length <= MAX_BUCKETS) return { label: unit.label, buckets };
  }
  // Unreachable: the whole date range is 56 buckets of 10,000 years.
  throw new Error(`no bucket width fits ${first}..${last}`);
}
