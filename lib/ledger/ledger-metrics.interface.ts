/** Aggregates over a set of events, from `RunLedger.computeMetrics`. */
export interface OptimizationMetrics {
  /** Violations per 10 events. */
  violationRate: number;
  /** Auto-corrected violations / all violations (1 when there are none). */
  selfCorrectionRate: number;
  /** Mean `reworkLines` per event. */
  reworkLines: number;
  /** Mean of the optional `clarifyingQuestions` field (0 where absent). */
  clarifyingQuestions: number;
  /** Number of events. */
  taskCount: number;
}

/** One rule's line in `RunLedger.rankViolations`. */
export interface ViolationRanking {
  ruleId: string;
  /** Times the rule was violated. */
  frequency: number;
  /** Total reworkLines of the events carrying the violation / frequency. */
  cost: number;
  /** frequency x cost. */
  score: number;
}
