import { RunEvent } from '../../events/run-event.interface';

/** The verdict of one evaluator on one event. */
export interface EvaluatorResult {
  name: string;
  passed: boolean;
  details: string;
  /** Between 0 and 1 when the evaluator grades. */
  score?: number;
}

/** Judges a run event. Objective evaluators check facts; subjective ones grade. */
export interface Evaluator {
  /** Unique name within a ledger; `removeEvaluator(name)` uses it. */
  name: string;
  type: 'objective' | 'subjective';
  evaluate(event: RunEvent): Promise<EvaluatorResult>;
}
