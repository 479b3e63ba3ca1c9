'use strict';
/** The ~470-byte event every benchmark case logs or stores. */
function benchEvent(i) {
  return {
    taskId: `task-${i % 100}`,
    guidanceHash: 'sha256:9f2c4e1b7a3d',
    retrievedRuleIds: ['no-any', 'tests-required'],
    toolsUsed: ['npm test', 'git diff --stat'],
    filesTouched: ['src/ledger/store.ts', 'src/ledger/index.ts'],
    diffSummary: { linesAdded: i % 50, linesRemoved: i % 13, filesChanged: 2 },
    testResults: { ran: true, passed: 10, failed: i % 17 === 0 ? 1 : 0, skipped: 1 },
    violations: i % 10 === 0 ? [{ ruleId: 'no-any', description: 'uses any', severity: 'low', autoCorrected: true }] : [],
    outcomeAccepted: true,
    reworkLines: i % 7,
    intent: 'feature',
    timestamp: 1_700_000_000_000 + i * 1000,
    durationMs: 1200,
    sessionId: 'session-0001',
  };
}

module.exports = { benchEvent };
