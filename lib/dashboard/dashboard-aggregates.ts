import { Subscription } from 'rxjs';
import { RunEvent } from '../events/run-event.interface';
import { PersistentLedger } from '../ledger/persistent-ledger';
import { OptimizationMetrics, ViolationRanking } from '../ledger/ledger-metrics.interface';
import { MAX_DATE_MS, MIN_DATE_MS, isDateTimestamp, timeBuckets } from './dashboard-time-buckets';

/** Summaries work in whole hours; the charts' buckets are whole hours or wider. */
export const HOUR_MS = 3_600_000;

/** Sums over the events of one hour (or of a window: the sums of its hours). */
interface Sums {
  runs: number;
  violations: number;
  autoCorrected: number;
  rework: number;
  questions: number;
  testsRan: number;
  testsPassed: number;
  accepted: number;
  rejected: number;
  /** Per rule: violations and the rework of the events carrying them, in first-seen order. */
  rules: Map<string, { frequency: number; rework: number }>;
}

/** One point of the charts: a bucket (UTC) and its figures; a bucket without runs has no rates. */
export interface DashboardSeriesPoint {
  /** Bucket start, epoch ms (a date). */
  start: number;
  /** Next bucket's start, epoch ms. */
  end: number;
  runs: number;
  /** Violations per 10 runs (as `computeMetrics`); null without runs. */
  violationRate: number | null;
  /** Mean `reworkLines`; null without runs. */
  reworkLines: number | null;
  /** Runs whose tests ran and none failed, per run whose tests ran (null when none ran). */
  testPassRate: number | null;
}

/** `GET <path>/api/summary`: the window's headline metrics, ranking and series. */
export interface DashboardSummary {
  /** The window as applied: whole hours, `null` bounds for "all"; `bucket` names the series' bucket width (`hour`, `day`, `week`, `month`, `year`, `10 years`, ...). */
  window: { from: number | null; to: number | null; bucket: string };
  metrics: OptimizationMetrics;
  ranking: ViolationRanking[];
  /**
   * Contiguous UTC buckets from the window's start (or its first run) to its end (or its last run),
   * quiet ones included, at most 60; runs whose timestamp is not a date are in the metrics, not here.
   */
  series: DashboardSeriesPoint[];
  outcomes: { accepted: number; rejected: number; pending: number };
  /** Oldest and newest event timestamps in the ledger (for the page's time inputs), and how many are not dates (beyond ±8.64e15 ms). */
  span: { oldest: number | null; newest: number | null; undated: number };
}

function emptySums(): Sums {
  return {
    runs: 0,
    violations: 0,
    autoCorrected: 0,
    rework: 0,
    questions: 0,
    testsRan: 0,
    testsPassed: 0,
    accepted: 0,
    rejected: 0,
    rules: new Map(),
  };
}

/**
 * Hour-by-hour sums of the ledger's events, kept current from `events$` at O(1) per stored event,
 * so that a summary costs O(hours in the window x rules) however many events there are. Rebuilt
 * from memory (O(events)) only when memory changed other than by appends (`memoryRevision`: a
 * compaction, a rebuild from the replica feed). Each event object is counted once.
 */
export class DashboardAggregates {
  private hours = new Map<number, Sums>();
  private counted = new WeakSet<RunEvent>();
  private revision = -1;
  private oldest: number | null = null;
  private newest: number | null = null;
  private undated = 0;
  private readonly subscription: Subscription;

  constructor(private readonly ledger: PersistentLedger) {
    this.subscription = ledger.events$.subscribe((event) => {
      if (this.revision >= 0) this.add(event);
    });
  }

  /** The summary of the events whose hour lies in `[from, to]` (either bound may be left open). */
  summary(from: number | null, to: number | null): DashboardSummary {
    this.ensureCurrent();
    const first = from === null ? null : Math.floor(from / HOUR_MS) * HOUR_MS;
    const last = to === null ? null : Math.floor(to / HOUR_MS) * HOUR_MS;
    const starts = [...this.hours.keys()].filter((h) => (first === null || h >= first) && (last === null || h <= last)).sort((a, b) => a - b);
    const total = emptySums();
    for (const start of starts) merge(total, this.hours.get(start)!);
    const { bucket, series } = this.series(
      starts.filter(isDateTimestamp),
      first === null ? null : clampToDates(first),
      last === null ? null : clampToDates(last),
    );
    return {
      window: { from: first, to: last === null ? null : last + HOUR_MS - 1, bucket },
      metrics: metricsOf(total),
      ranking: rankingOf(total),
      series,
      outcomes: { accepted: total.accepted, rejected: total.rejected, pending: total.runs - total.accepted - total.rejected },
      span: { oldest: this.oldest, newest: this.newest, undated: this.undated },
    };
  }

  /** The buckets from `first` (or the first dated hour) to `last` (or the last), each with the sums of its hours. */
  private series(datedHours: number[], first: number | null, last: number | null): { bucket: string; series: DashboardSeriesPoint[] } {
    const lo = first ?? datedHours[0];
    const hi = last ?? datedHours[datedHours.length - 1];
    if (lo === undefined || hi === undefined || lo > hi) return { bucket: 'hour', series: [] };
    const { label, buckets } = timeBuckets(lo, hi);
    const sums = buckets.map(() => emptySums());
    let i = 0;
    for (const hour of datedHours) {
      while (buckets[i].end <= hour) i++;
      merge(sums[i], this.hours.get(hour)!);
    }
    return {
      bucket: label,
      series: buckets.map(({ start, end }, b) => {
        const s = sums[b];
        return {
          start,
          end,
          runs: s.runs,
          violationRate: s.runs === 0 ? null : (s.violations / s.runs) * 10,
          reworkLines: s.runs === 0 ? null : s.rework / s.runs,
          testPassRate: s.testsRan === 0 ? null : s.testsPassed / s.testsRan,
        };
      }),
    };
  }

  /** Stops following the ledger. */
  close(): void {
    this.subscription.unsubscribe();
  }

  private ensureCurrent(): void {
    if (this.revision === this.ledger.memoryRevision) return;
    this.hours = new Map();
    this.counted = new WeakSet();
    this.oldest = null;
    this.newest = null;
    this.undated = 0;
    this.revision = this.ledger.memoryRevision;
    for (const event of this.ledger.getEvents()) this.add(event);
  }

  private add(event: RunEvent): void {
    if (this.counted.has(event)) return;
    this.counted.add(event);
    const hour = Math.floor(event.timestamp / HOUR_MS) * HOUR_MS;
    let sums = this.hours.get(hour);
    if (!sums) this.hours.set(hour, (sums = emptySums()));
    sums.runs++;
    sums.rework += event.reworkLines;
    sums.questions += event.clarifyingQuestions ?? 0;
    if (event.testResults.ran) {
      sums.testsRan++;
      if (event.testResults.failed === 0) sums.testsPassed++;
    }
    if (event.outcomeAccepted === true) sums.accepted++;
    else if (event.outcomeAccepted === false) sums.rejected++;
    for (const violation of event.violations) {
      sums.violations++;
      if (violation.autoCorrected) sums.autoCorrected++;
      const rule = sums.rules.get(violation.ruleId);
      if (rule) {
        rule.frequency++;
        rule.rework += event.reworkLines;
      } else sums.rules.set(violation.ruleId, { frequency: 1, rework: event.reworkLines });
    }
    if (!isDateTimestamp(event.timestamp)) this.undated++;
    if (this.oldest === null || event.timestamp < this.oldest) this.oldest = event.timestamp;
    if (this.newest === null || event.timestamp > this.newest) this.newest = event.timestamp;
  }
}

function clampToDates(t: number): number {
  return Math.min(Math.max(t, MIN_DATE_MS), MAX_DATE_MS);
}

function merge(into: Sums, from: Sums): void {
  into.runs += from.runs;
  into.violations += from.violations;
  into.autoCorrected += from.autoCorrected;
  into.rework += from.rework;
  into.questions += from.questions;
  into.testsRan += from.testsRan;
  into.testsPassed += from.testsPassed;
  into.accepted += from.accepted;
  into.rejected += from.rejected;
  for (const [ruleId, rule] of from.rules) {
    const existing = into.rules.get(ruleId);
    if (existing) {
      existing.frequency += rule.frequency;
      existing.rework += rule.rework;
    } else into.rules.set(ruleId, { ...rule });
  }
}

/** The same figures as `RunLedger.computeMetrics` over the same events. */
function metricsOf(sums: Sums): OptimizationMetrics {
  if (sums.runs === 0) return { violationRate: 0, selfCorrectionRate: 0, reworkLines: 0, clarifyingQuestions: 0, taskCount: 0 };
  return {
    violationRate: (sums.violations / sums.runs) * 10,
    selfCorrectionRate: sums.violations === 0 ? 1 : sums.autoCorrected / sums.violations,
    reworkLines: sums.rework / sums.runs,
    clarifyingQuestions: sums.questions / sums.runs,
    taskCount: sums.runs,
  };
}

/** The same lines as `RunLedger.rankViolations` (rules of equal score in order of first appearance, by hour). */
function rankingOf(sums: Sums): ViolationRanking[] {
  return [...sums.rules.entries()]
    .map(([ruleId, { frequency, rework }]) => {
      const cost = rework / frequency;
      return { ruleId, frequency, cost, score: frequency * cost };
    })
    .sort((a, b) => b.score - a.score);
}
