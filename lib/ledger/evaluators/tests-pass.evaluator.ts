import { Evaluator, EvaluatorResult } from './evaluator.interface';
import { RunEvent } from '../../events/run-event.interface';

/** Fails (score 0) when tests did not run; passes iff none failed; score = passed / all. */
export class TestsPassEvaluator implements Evaluator {
  readonly name = 'tests-pass';
  readonly type = 'objective' as const;

  async evaluate(event: RunEvent): Promise<EvaluatorResult> {
    const { ran, passed, failed, skipped } = event.testResults;
    if (!ran) return { name: this.name, passed: false, details: 'Tests were not run', score: 0 };
    const total = passed + failed + skipped;
    return {
      name: this.name,
      passed: failed === 0,
      details: `${passed} passed, ${failed} failed, ${skipped} skipped`,
      score: total === 0 ? 0 : passed / total,
    };
  }
}
