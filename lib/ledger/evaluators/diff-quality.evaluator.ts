import { Evaluator, EvaluatorResult } from './evaluator.interface';
import { RunEvent } from '../../events/run-event.interface';

/** Rework ratio = reworkLines / (linesAdded + linesRemoved); passes iff ratio <= max; score = max(0, 1 - ratio). */
export class DiffQualityEvaluator implements Evaluator {
  readonly name = 'diff-quality';
  readonly type = 'subjective' as const;

  constructor(private readonly maxReworkRatio = 0.3) {}

  async evaluate(event: RunEvent): Promise<EvaluatorResult> {
    const changed = event.diffSummary.linesAdded + event.diffSummary.linesRemoved;
    if (changed === 0) return { name: this.name, passed: true, details: 'No diff', score: 1 };
    const ratio = event.reworkLines / changed;
    return {
      name: this.name,
      passed: ratio <= this.maxReworkRatio,
      details: `Rework ratio ${ratio.toFixed(3)} (max ${this.maxReworkRatio})`,
      score: Math.max(0, 1 - ratio),
    };
  }
}
