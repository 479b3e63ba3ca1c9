import { Subscription } from 'rxjs';
import { RunEvent } from '../events/run-event.interface';
import { PersistentLedger } from '../ledger/persistent-ledger';
import { OptimizationMetrics, ViolationRanking } from '../ledger/ledger-metrics.interface';

/** Bucket width: summaries and charts work in whole hours (days are 24 of them). */
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

/** One point of the charts: a bucket's start and its figures. */
export interface DashboardSeriesPoint {
  /** Bucket start, epoch ms. */
  start: number;
  runs: number;
  /** Violations per 10 runs (as `computeMetrics`). */
  violationRate: number;
  /** Mean `reworkLines`. */
  reworkLines: number;
  /** Runs whose tests ran and none failed, per run whose tests ran (null when none ran). */
  testPassRate: number | null;
}

/** `GET <path>/api/summary`: the window's headline metrics, ranking and series. */
export interface DashboardSummary {
  /** The window as applied: whole hours, `null` bounds for "all". */
  window: { from: number | null; to: number | null; bucket: 'hour' | 'day' };
  metrics: OptimizationMetrics;
  ranking: ViolationRanking[];
  series: DashboardSeriesPoint[];
  outcomes: { accepted: number; rejected: number; pending: number };
  /** Oldest and newest event timestamps in the ledger (for the page's time inputs). */
  span: { oldest: number | null; newest: number | null };
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
    const span = starts.length === 0 ? 0 : starts[starts.length - 1] - starts[0];
    const bucket: 'hour' | 'day' = span > 2 * 24 * HOUR_MS ? 'day' : 'hour';
    const width = bucket === 'day' ? 24 * HOUR_MS : HOUR_MS;
    const total = emptySums();
    const buckets = new Map<number, Sums>();
    for (const start of starts) {
      const sums = this.hours.get(start)!;
      merge(total, sums);
      const key = Math.floor(start / width) * width;
      let into = buckets.get(key);
      if (!into) buckets.set(key, (into = emptySums()));
      merge(into, sums);
    }
    return {
      window: { from: first, to: last === null ? null : last + HOUR_MS - 1, bucket },
      metrics: metricsOf(total),
      ranking: rankingOf(total),
      series: [...buckets.entries()].map(([start, sums]) => ({
        start,
        runs: sums.runs,
        violationRate: sums.runs === 0 ? 0 : (sums.violations / sums.runs) * 10,
        reworkLines: sums.runs === 0 ? 0 : sums.rework / sums.runs,
        testPassRate: sums.testsRan === 0 ? null : sums.testsPassed / sums.testsRan,
      })),
      outcomes: { accepted: total.accepted, rejected: total.rejected, pending: total.runs - total.accepted - total.rejected },
      span: { oldest: this.oldest, newest: this.newest },
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
    if (this.oldest === null || event.timestamp < this.oldest) this.oldest = event.timestamp;
    if (this.newest === null || event.timestamp > this.newest) this.newest = event.timestamp;
  }
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
