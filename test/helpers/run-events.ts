import { RunEvent, Violation } from '../../lib';

/** A complete, valid event input (no eventId) with overridable fields. */
export function runEventInput(overrides: Partial<RunEvent> = {}): Omit<RunEvent, 'eventId'> & Partial<RunEvent> {
  return {
    taskId: 'task-1',
    guidanceHash: 'g1',
    retrievedRuleIds: [],
    toolsUsed: [],
    filesTouched: [],
    diffSummary: { linesAdded: 0, linesRemoved: 0, filesChanged: 0 },
    testResults: { ran: true, passed: 1, failed: 0, skipped: 0 },
    violations: [],
    outcomeAccepted: true,
    reworkLines: 0,
    intent: 'feature',
    timestamp: 1_700_000_000_000,
    durationMs: 10,
    ...overrides,
  };
}

export function violation(ruleId: string, autoCorrected = false): Violation {
  return { ruleId, description: `${ruleId} broken`, severity: 'medium', autoCorrected };
}

/** An event as stored when its input had only these fields: every other standard field at its default, written out. */
export function eventWithDefaults(fields: Pick<RunEvent, 'eventId' | 'taskId' | 'timestamp'>): RunEvent {
  return {
    eventId: fields.eventId,
    taskId: fields.taskId,
    guidanceHash: '',
    retrievedRuleIds: [],
    toolsUsed: [],
    filesTouched: [],
    diffSummary: { linesAdded: 0, linesRemoved: 0, filesChanged: 0 },
    testResults: { ran: false, passed: 0, failed: 0, skipped: 0 },
    violations: [],
    outcomeAccepted: null,
    reworkLines: 0,
    intent: 'general',
    timestamp: fields.timestamp,
    durationMs: 0,
  };
}
