import type { DiffSummary, TaskIntent, TestResults, Violation } from './run-event.values';

/**
 * The kinds of value a run-event field holds. Each kind has one check (in the
 * validator), one default for a missing value, and one JSON writer (in the serializer).
 */
export interface RunEventFieldKinds {
  /** A non-empty string without U+0000, at most `MAX_ID_BYTES` of UTF-8 (an indexed column on PostgreSQL). */
  id: string;
  /** Any string (default `''`). */
  string: string;
  /** A list of strings (default `[]`). */
  stringList: string[];
  /** A non-negative number (default `0`). */
  count: number;
  /** A finite number (default `0`). */
  finite: number;
  /** Epoch milliseconds a JavaScript `Date` can hold: within ±8.64e15 (`MAX_TIMESTAMP_MS`). */
  epochMs: number;
  diffSummary: DiffSummary;
  testResults: TestResults;
  violations: Violation[];
  /** `true`, `false`, or `null` = not judged yet (the default). */
  outcome: boolean | null;
  /** One of `TASK_INTENTS` (default `'general'`). */
  intent: TaskIntent;
}

/**
 * When an input lacks a field: `required` refuses it, `assigned` gives it a new
 * id, `defaulted` gives it its kind's default, `optional` leaves it out.
 */
export type RunEventFieldPresence = 'required' | 'assigned' | 'defaulted' | 'optional';

/** One field of the run event. */
export interface RunEventFieldSpec {
  kind: keyof RunEventFieldKinds;
  presence: RunEventFieldPresence;
  /** What a valid value is, for error messages, when the kind's own wording is too vague. */
  expected?: string;
}

/**
 * The run event, field by field, in the order stored events have them: the one
 * definition that the `RunEvent` type, the validator (checks and defaults) and
 * the serializer follow. The validator and the serializer are written out field
 * by field: a new field is one line here and one in each of them (test/run-event-schema.spec.ts
 * walks this list and fails for a field either misses); a new kind of value also needs its
 * check, default and writer.
 */
export const RUN_EVENT_SCHEMA = {
  /** Unique id (a UUID), assigned by the ledger. */
  eventId: { kind: 'id', presence: 'assigned' },
  /** The task (stream) the event belongs to. */
  taskId: { kind: 'id', presence: 'required' },
  /** Hash of the rule bundle in force during the run. */
  guidanceHash: { kind: 'string', presence: 'defaulted' },
  /** Ids of the rules retrieved for the run. */
  retrievedRuleIds: { kind: 'stringList', presence: 'defaulted' },
  /** Tools and commands the run used. */
  toolsUsed: { kind: 'stringList', presence: 'defaulted' },
  /** Files the run touched. */
  filesTouched: { kind: 'stringList', presence: 'defaulted' },
  /** Size of the change the run made. */
  diffSummary: { kind: 'diffSummary', presence: 'defaulted' },
  /** Test outcome of the run. */
  testResults: { kind: 'testResults', presence: 'defaulted' },
  /** Rule violations found in the run. */
  violations: { kind: 'violations', presence: 'defaulted' },
  /** Whether the result was accepted; `null` = not judged yet. */
  outcomeAccepted: { kind: 'outcome', presence: 'defaulted' },
  /** Lines reworked after the first attempt. */
  reworkLines: { kind: 'count', presence: 'defaulted' },
  /** What kind of task the run performed. */
  intent: { kind: 'intent', presence: 'defaulted' },
  /** Epoch milliseconds when the run started. */
  timestamp: { kind: 'epochMs', presence: 'required', expected: 'a finite number of epoch milliseconds' },
  /** How long the run took, in milliseconds. */
  durationMs: { kind: 'finite', presence: 'defaulted' },
  /** The session the run belongs to. */
  sessionId: { kind: 'string', presence: 'optional' },
  /** Clarifying questions asked (averaged by `computeMetrics`). */
  clarifyingQuestions: { kind: 'count', presence: 'optional' },
  /** Package names the run added (checked by `forbidden-dependency-scan`). */
  dependenciesAdded: { kind: 'stringList', presence: 'optional' },
} as const satisfies Record<string, RunEventFieldSpec>;

type Schema = typeof RUN_EVENT_SCHEMA;
type ValueOf<K extends keyof Schema> = RunEventFieldKinds[Schema[K]['kind']];
type Flatten<T> = { [K in keyof T]: T[K] };

/** One task or agent run, as stored in the ledger (its fields are those of {@link RUN_EVENT_SCHEMA}). */
export type RunEvent = Flatten<
  { -readonly [K in keyof Schema as Schema[K]['presence'] extends 'optional' ? never : K]: ValueOf<K> } & {
    -readonly [K in keyof Schema as Schema[K]['presence'] extends 'optional' ? K : never]?: ValueOf<K>;
  }
>;

type RequiredInputKey = { [K in keyof Schema]: Schema[K]['presence'] extends 'required' ? K : never }[keyof Schema];

/**
 * What a caller may pass to `logEvent`: the `required` fields (`taskId`,
 * `timestamp`); every other standard field is optional and filled with its
 * default. Editors complete the field names, and a misspelt field in an object
 * literal is a compile error (at run time, the `unknownFields` option refuses one
 * named like a standard field by default). Other extra JSON fields are stored as they are:
 * declare them in a type of your own (`interface MyRun extends RunEventInput { ticket: string }`)
 * and pass a value of it. Input of unknown shape (a request body) can be passed
 * as `body as RunEventInput`: every value is validated at run time anyway.
 */
export type RunEventInput = Partial<RunEvent> & Pick<RunEvent, RequiredInputKey>;

/** The fields of {@link RunEvent}, in the order stored events have them; any other field is an extra JSON field. */
export const RUN_EVENT_FIELDS = Object.keys(RUN_EVENT_SCHEMA) as readonly (keyof RunEvent)[];
