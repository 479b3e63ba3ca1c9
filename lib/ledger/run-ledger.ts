import { createDefaultEvaluators } from './evaluators/default-evaluators';
import { LedgerValidationError } from '../errors/ledger-validation.error';
import { Evaluator, EvaluatorResult } from './evaluators/evaluator.interface';
import { OptimizationMetrics, ViolationRanking } from './ledger-metrics.interface';
import { RunEvent, RunEventInput, TaskIntent } from '../events/run-event.interface';
import { UnknownFieldsPolicy, newRunEvent, sanitizeRunEvent } from '../events/run-event.validator';
import { LEDGER_DEFAULTS } from '../options/ledger-defaults';
import { RunLedgerOptions } from '../options/ledger-options.interface';

/**
 * An in-memory ledger of run events, in insertion order, with evaluators that
 * judge each run and metrics over the history.
 */
export class RunLedger {
  private revision = 0;
  protected events: RunEvent[] = [];
  /**
   * The ids of `events` (an event id is unique in the ledger, and a key of the
   * PostgreSQL table), built on first need: only `finalizeEvent` and
   * `importEvents` take ids from the caller, so a ledger that only logs never pays for it.
   */
  private eventIds: Set<string> | null = null;
  protected readonly maxEventBytes: number;
  private readonly unknownFields: UnknownFieldsPolicy;
  private evaluators: Evaluator[];

  constructor(options: RunLedgerOptions = {}) {
    this.maxEventBytes = options.maxEventBytes ?? LEDGER_DEFAULTS.maxEventBytes;
    this.unknownFields = options.unknownFields ?? LEDGER_DEFAULTS.unknownFields;
    this.evaluators = [...createDefaultEvaluators(options), ...(options.evaluators ?? [])];
  }

  /** Adds an evaluator; one with the same name is replaced in place. */
  addEvaluator(evaluator: Evaluator): void {
    const at = this.evaluators.findIndex((e) => e.name === evaluator.name);
    if (at >= 0) this.evaluators[at] = evaluator;
    else this.evaluators.push(evaluator);
  }

  /** Removes the evaluator with that name; returns whether there was one. */
  removeEvaluator(name: string): boolean {
    const before = this.evaluators.length;
    this.evaluators = this.evaluators.filter((e) => e.name !== name);
    return this.evaluators.length !== before;
  }

  /** The registered evaluators, in the order they run. */
  getEvaluators(): Evaluator[] {
    return [...this.evaluators];
  }

  /**
   * Stores a validated copy of the event with a fresh `eventId` and returns it.
   * Missing standard fields get the `createEvent` defaults.
   *
   * @throws LedgerValidationError when the event is not storable; nothing changes then.
   */
  logEvent(event: RunEventInput): RunEvent {
    const stored = sanitizeRunEvent(event, this.maxEventBytes, true, this.unknownFields);
    this.append([stored]);
    return stored;
  }

  /** A new, unstored event: empty lists, zero counts, tests not run, outcome not judged, timestamp now. */
  createEvent(taskId: string, intent: TaskIntent = 'general', guidanceHash = ''): RunEvent {
    return newRunEvent({ taskId, intent, guidanceHash, timestamp: Date.now() });
  }

  /**
   * Sets `durationMs = now - timestamp` on the event, stores a copy (keeping its
   * `eventId`) and returns the stored copy.
   *
   * @throws LedgerValidationError when the event is not storable, or its `eventId` is already in the ledger (finalized twice).
   */
  finalizeEvent(event: RunEvent): RunEvent {
    const stored = sanitizeRunEvent({ ...event, durationMs: Date.now() - event.timestamp }, this.maxEventBytes, false, this.unknownFields);
    this.refuseKnownId(stored.eventId, 'eventId');
    this.append([stored]);
    event.durationMs = stored.durationMs;
    return stored;
  }

  /** Runs every evaluator in order. An evaluator that throws yields a failed result naming the error. */
  async evaluate(event: RunEvent): Promise<EvaluatorResult[]> {
    const results: EvaluatorResult[] = [];
    for (const evaluator of this.evaluators) {
      try {
        results.push(await evaluator.evaluate(event));
      } catch (err) {
        results.push({ name: evaluator.name, passed: false, details: `Evaluator threw: ${(err as Error)?.message ?? String(err)}`, score: 0 });
      }
    }
    return results;
  }

  /** Every event, in insertion order (a copy of the list). */
  getEvents(): RunEvent[] {
    return [...this.events];
  }

  getEventsByTask(taskId: string): RunEvent[] {
    return this.events.filter((e) => e.taskId === taskId);
  }

  /** Events with `startMs <= timestamp <= endMs`. */
  getEventsInRange(startMs: number, endMs: number): RunEvent[] {
    return this.events.filter((e) => e.timestamp >= startMs && e.timestamp <= endMs);
  }

  /** The last `n` events inserted, oldest first. */
  getRecentEvents(n: number): RunEvent[] {
    return n > 0 ? this.events.slice(-n) : [];
  }

  get eventCount(): number {
    return this.events.length;
  }

  exportEvents(): RunEvent[] {
    return [...this.events];
  }

  /**
   * Adds events as they are, keeping their `eventId` (one is assigned where missing).
   * All are validated before any is stored.
   *
   * @throws LedgerValidationError naming `[index].field` of the first bad event (an `eventId` already
   * in the ledger, or twice in `events`, too); nothing is stored then.
   */
  importEvents(events: unknown[]): void {
    if (!Array.isArray(events)) throw new LedgerValidationError('events', 'must be an array of run events');
    const batchIds = new Set<string>();
    const accepted = events.map((event, i) => {
      try {
        return sanitizeRunEvent(event, this.maxEventBytes, false, this.unknownFields);
      } catch (err) {
        if (err instanceof LedgerValidationError) throw new LedgerValidationError(`[${i}].${err.field}`, err.problem);
        throw err;
      }
    });
    accepted.forEach((event, i) => {
      this.refuseKnownId(event.eventId, `[${i}].eventId`);
      if (batchIds.has(event.eventId))
        throw new LedgerValidationError(`[${i}].eventId`, `"${event.eventId}" appears twice in the imported events (event ids are unique)`);
      batchIds.add(event.eventId);
    });
    this.append(accepted);
  }

  /** Empties the in-memory list. */
  clear(): void {
    this.replaceEvents([]);
  }

  /** Replaces the in-memory list (load, compaction) and the index of its ids. */
  protected replaceEvents(events: RunEvent[]): void {
    this.events = events;
    this.eventIds = null;
    this.revision++;
  }

  /**
   * Changes whenever memory changes other than by appending events (a load, a compaction, a
   * rebuild from the replica feed, refused events, `clear()`): a reader that keeps aggregates of
   * the events knows when to recompute them instead of adding to them.
   */
  get memoryRevision(): number {
    return this.revision;
  }

  /** Records an event added to memory other than by {@link append}. */
  protected noteEventId(eventId: string): void {
    this.eventIds?.add(eventId);
  }

  private refuseKnownId(eventId: string, field: string): void {
    this.eventIds ??= new Set(this.events.map((e) => e.eventId));
    if (this.eventIds.has(eventId)) {
      throw new LedgerValidationError(
        field,
        `"${eventId}" is already in the ledger (event ids are unique; log a new event with logEvent for a new run)`,
      );
    }
  }

  /** Aggregates over `events` (default: all). All zero for no events. */
  computeMetrics(events: RunEvent[] = this.events): OptimizationMetrics {
    if (events.length === 0) {
      return { violationRate: 0, selfCorrectionRate: 0, reworkLines: 0, clarifyingQuestions: 0, taskCount: 0 };
    }
    let violations = 0;
    let autoCorrected = 0;
    let rework = 0;
    let questions = 0;
    for (const event of events) {
      violations += event.violations.length;
      autoCorrected += event.violations.filter((v) => v.autoCorrected).length;
      rework += event.reworkLines;
      questions += event.clarifyingQuestions ?? 0;
    }
    return {
      violationRate: (violations / events.length) * 10,
      selfCorrectionRate: violations === 0 ? 1 : autoCorrected / violations,
      reworkLines: rework / events.length,
      clarifyingQuestions: questions / events.length,
      taskCount: events.length,
    };
  }

  /** Per rule: frequency, mean rework cost, score = frequency x cost; highest score first. */
  rankViolations(events: RunEvent[] = this.events): ViolationRanking[] {
    const byRule = new Map<string, { frequency: number; rework: number }>();
    for (const event of events) {
      for (const violation of event.violations) {
        const entry = byRule.get(violation.ruleId) ?? { frequency: 0, rework: 0 };
        entry.frequency++;
        entry.rework += event.reworkLines;
        byRule.set(violation.ruleId, entry);
      }
    }
    return [...byRule.entries()]
      .map(([ruleId, { frequency, rework }]) => {
        const cost = rework / frequency;
        return { ruleId, frequency, cost, score: frequency * cost };
      })
      .sort((a, b) => b.score - a.score);
  }

  /** Stores already-validated events. Subclasses persist them; it must throw before changing anything. */
  protected append(events: RunEvent[]): void {
    for (const event of events) {
      this.events.push(event);
      this.eventIds?.add(event.eventId);
    }
  }
}
