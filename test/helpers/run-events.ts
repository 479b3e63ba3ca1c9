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
