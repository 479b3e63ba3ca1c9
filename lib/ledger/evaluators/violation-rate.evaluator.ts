import { Evaluator, EvaluatorResult } from './evaluator.interface';
import { RunEvent } from '../../events/run-event.interface';

/** Passes iff the event has at most `maxViolations` violations; score = max(0, 1 - count / max(max + 1, 1)). */
export class ViolationRateEvaluator implements Evaluator {
  readonly name = 'violation-rate';
  readonly type = 'objective' as const;

  constructor(private readonly maxViolations = 0) {}

  async evaluate(event: RunEvent): Promise<EvaluatorResult> {
    const count = event.violations.length;
    return {
      name: this.name,
      passed: count <= this.maxViolations,
      details: `${count} violation(s), at most ${this.maxViolations} allowed`,
      score: Math.max(0, 1 - count / Math.max(this.maxViolations + 1, 1)),
    };
  }
}
