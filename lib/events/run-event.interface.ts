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

/** One task or agent run, as stored in the ledger. */
export interface RunEvent {
  /** Unique id (a UUID), assigned by the ledger. */
  eventId: string;
  /** The task (stream) the event belongs to. */
  taskId: string;
  /** Hash of the rule bundle in force during the run. */
  guidanceHash: string;
  retrievedRuleIds: string[];
  toolsUsed: string[];
  filesTouched: string[];
  diffSummary: DiffSummary;
  testResults: TestResults;
  violations: Violation[];
  /** Whether the result was accepted; `null` = not judged yet. */
  outcomeAccepted: boolean | null;
  reworkLines: number;
  intent: TaskIntent;
  /** Epoch milliseconds when the run started. */
  timestamp: number;
  durationMs: number;
  sessionId?: string;
  /** Optional count of clarifying questions asked (averaged by `computeMetrics`). */
  clarifyingQuestions?: number;
  /** Optional package names the run added (checked by `forbidden-dependency-scan`). */
  dependenciesAdded?: string[];
}

/**
 * What a caller may pass to `logEvent`: `taskId` and `timestamp` are required;
 * every other standard field is optional and filled with the `createEvent` default.
 * Extra JSON fields are kept as they are.
 */
export type RunEventInput = Partial<RunEvent> & Pick<RunEvent, 'taskId' | 'timestamp'> & Record<string, unknown>;

/** The fields of {@link RunEvent}, in the order stored events have them; any other field is an extra JSON field. */
export const RUN_EVENT_FIELDS: readonly (keyof RunEvent)[] = [
  'eventId',
  'taskId',
  'guidanceHash',
  'retrievedRuleIds',
  'toolsUsed',
  'filesTouched',
  'diffSummary',
  'testResults',
  'violations',
  'outcomeAccepted',
  'reworkLines',
  'intent',
  'timestamp',
  'durationMs',
  'sessionId',
  'clarifyingQuestions',
  'dependenciesAdded',
];
