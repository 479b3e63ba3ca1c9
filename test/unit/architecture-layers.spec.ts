/**
 * The layers of lib/ point one way: ARCHITECTURE.md lists them top first (its ```layers
 * block), and no file imports from a layer above its own, nor from a sibling on its own line.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LayerViolation, layerViolations, readLayerOrder, readLibSources } from '../helpers/import-layers';

const ROOT = join(__dirname, '..', '..');
const layers = readLayerOrder(readFileSync(join(ROOT, 'ARCHITECTURE.md'), 'utf8'));

/** Upward imports known today, each to be removed from this list by the change that removes it. */

const shown = (violations: LayerViolation[]): string[] => violations.map(({ file, imported }) => `${file} -> ${imported}`);

describe('the layers of lib/', () => {
  const violations = layerViolations(readLibSources(join(ROOT, 'lib')), layers);

  it('ARCHITECTURE.md lists them', () => {
    expect(layers.length).toBeGreaterThan(10);
  });

  it('no file imports from a layer above its own, or from a sibling', () => {
    expect(shown(violations)).toEqual([]);
  });

  it('the check finds an import pointing up, one across siblings, and a file in no layer', () => {
    const sources = new Map([
      ['errors/a.error.ts', "import { x } from '../events/b';"],
      ['events/b.ts', "export { y } from '../errors/a.error';"],
      ['storage/file/c.ts', "const d = require('../postgres/d');"],
      ['storage/postgres/d.ts', "import type { b } from '../../events/b';"],
      ['nowhere/e.ts', ''],
    ]);
    expect(shown(layerViolations(sources, layers))).toEqual([
      'errors/a.error.ts -> events/b.ts',
      'storage/file/c.ts -> storage/postgres/d.ts',
      'nowhere/e.ts -> (no layer)',
    ]);
  });
});
