/**
 * The types of the values run-event fields hold (the kinds of `RUN_EVENT_SCHEMA` refer to
 * them): the one home of these types; the schema and the validator import them from here.
 */
/** Severity of a rule violation. */
export type RiskClass = 'critical' | 'high' | 'medium' | 'low' | 'info';

/** What kind of task a run performed. */
export type TaskIntent =
  'bug-fix' | 'feature' | 'refactor' | 'security' | 'performance' | 'testing' | 'docs' | 'deployment' | 'architecture' | 'debug' | 'general';

/** Every accepted {@link RiskClass}, in decreasing severity. */
export const RISK_CLASSES: readonly RiskClass[] = ['critical', 'high', 'medium', 'low', 'info'];

/** Every accepted {@link TaskIntent}. */
export const TASK_INTENTS: readonly TaskIntent[] = [
  'bug-fix',
  'feature',
  'refactor',
  'security',
  'performance',
  'testing',
  'docs',
  'deployment',
  'architecture',
  'debug',
  'general',
];

/** A rule violation found in a run. */
export interface Violation {
  ruleId: string;
  description: string;
  severity: RiskClass;
  location?: string;
  autoCorrected: boolean;
}

/** Size of the change a run made. */
export interface DiffSummary {
  linesAdded: number;
  linesRemoved: number;
  filesChanged: number;
}

/** Test outcome of a run. */
export interface TestResults {
  ran: boolean;
  passed: number;
  failed: number;
  skipped: number;
}
