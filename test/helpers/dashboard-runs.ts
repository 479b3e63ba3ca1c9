import { RunEvent } from '../../lib';
import { runEventInput, violation } from './run-events';

const HOUR = 3_600_000;
/** The first seeded run's time. */
export const T0 = Date.UTC(2026, 10, 20);

/** 240 runs over 10 days: tasks t0..t7, some with violations of three rules, outcomes and tests varied. */
export function seedRuns(count = 240): RunEvent[] {
  return Array.from({ length: count }, (_, i) => ({
    ...runEventInput({
      taskId: `t${i % 8}`,
      timestamp: T0 + i * HOUR,
      reworkLines: i % 13,
      outcomeAccepted: i % 5 === 0 ? false : i % 7 === 0 ? null : true,
      testResults: { ran: i % 3 !== 0, passed: 10, failed: i % 4 === 0 ? 1 : 0, skipped: 0 },
      violations: i % 6 === 0 ? [violation('no-any')] : i % 9 === 0 ? [violation('tests-required'), violation('no-console')] : [],
      clarifyingQuestions: i % 2,
    }),
    eventId: `run-${String(i).padStart(4, '0')}`,
  })) as RunEvent[];
}
