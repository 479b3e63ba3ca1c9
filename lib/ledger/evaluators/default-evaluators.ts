import { LEDGER_DEFAULTS } from '../../options/ledger-defaults';
import { Evaluator } from './evaluator.interface';
import { DiffQualityEvaluator } from './diff-quality.evaluator';
import { DEFAULT_FORBIDDEN_COMMAND_PATTERNS, ForbiddenCommandScanEvaluator } from './forbidden-command-scan.evaluator';
import { ForbiddenDependencyScanEvaluator } from './forbidden-dependency-scan.evaluator';
import { TestsPassEvaluator } from './tests-pass.evaluator';
import { ViolationRateEvaluator } from './violation-rate.evaluator';

/** Settings of the five built-in evaluators. */
export interface BuiltInEvaluatorOptions {
  /** Patterns `forbidden-command-scan` rejects. @default DEFAULT_FORBIDDEN_COMMAND_PATTERNS */
  forbiddenCommandPatterns?: readonly RegExp[] | undefined;
  /** Package names `forbidden-dependency-scan` rejects. @default [] */
  forbiddenDependencies?: readonly string[] | undefined;
  /** Violations per event `violation-rate` allows. @default 0 */
  maxViolations?: number | undefined;
  /** Rework ratio `diff-quality` allows. @default 0.3 */
  maxReworkRatio?: number | undefined;
}

/** The built-in evaluators, in the order they run. */
export function createDefaultEvaluators(options: BuiltInEvaluatorOptions = {}): Evaluator[] {
  return [
    new TestsPassEvaluator(),
    new ForbiddenCommandScanEvaluator(options.forbiddenCommandPatterns ?? DEFAULT_FORBIDDEN_COMMAND_PATTERNS),
    new ForbiddenDependencyScanEvaluator(options.forbiddenDependencies ?? []),
    new ViolationRateEvaluator(options.maxViolations ?? LEDGER_DEFAULTS.maxViolations),
    new DiffQualityEvaluator(options.maxReworkRatio ?? LEDGER_DEFAULTS.maxReworkRatio),
  ];
}
