import { Evaluator, EvaluatorResult } from './evaluator.interface';
import { RunEvent } from '../../events/run-event.interface';

const MANIFEST = /(^|\/)(package\.json|package-lock\.json|yarn\.lock|pnpm-lock\.yaml)$/;

/**
 * Fails when the event's optional `dependenciesAdded` names a forbidden package.
 * Touched package manifests are reported in the details.
 */
export class ForbiddenDependencyScanEvaluator implements Evaluator {
  readonly name = 'forbidden-dependency-scan';
  readonly type = 'objective' as const;

  constructor(private readonly forbidden: readonly string[] = []) {}

  async evaluate(event: RunEvent): Promise<EvaluatorResult> {
    const manifests = event.filesTouched.filter((file) => MANIFEST.test(file));
    const hits = (event.dependenciesAdded ?? []).filter((dep) => this.forbidden.includes(dep));
    const touched = manifests.length > 0 ? `; manifests touched: ${manifests.join(', ')}` : '';
    return hits.length === 0
      ? { name: this.name, passed: true, details: `No forbidden dependencies added${touched}`, score: 1 }
      : { name: this.name, passed: false, details: `Forbidden dependencies added: ${hits.join(', ')}${touched}`, score: 0 };
  }
}
