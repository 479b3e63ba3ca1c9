/**
 * The layers of `lib/` as ARCHITECTURE.md lists them, and the relative imports
 * that break their order (a file importing from a layer above its own, or from
 * a sibling on its own line).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, posix, relative, sep } from 'node:path';

/** One line of the layer order: paths under `lib/` (a folder ends with `/`), siblings that do not import each other. */
export interface Layer {
  rank: number;
  paths: string[];
}

/** An import that points up the order (or across siblings). */
export interface LayerViolation {
  file: string;
  imported: string;
}

/**
 * The layer order, top first, from the ```layers block of ARCHITECTURE.md:
 * one layer a line, its paths separated by spaces, `#` starts a comment.
 */
export function readLayerOrder(markdown: string): Layer[] {
  const block = /```layers\n([\s\S]*?)```/.exec(markdown);
  if (!block) throw new Error('ARCHITECTURE.md has no ```layers block');
  return block[1]
    .split('\n')
    .map((line) => line.replace(/#.*/, '').trim())
    .filter((line) => line.length > 0)
    .map((line, rank) => ({ rank, paths: line.split(/\s+/) }));
}

/** The layer and the path (on its line) that hold `file` (relative to lib/, posix): the longest path that matches. */
export function layerOf(file: string, layers: Layer[]): { rank: number; path: string } | null {
  let best: { rank: number; path: string } | null = null;
  for (const layer of layers) {
    for (const path of layer.paths) {
      const matches = path.endsWith('/') ? file.startsWith(path) : file === path;
      if (matches && (!best || path.length > best.path.length)) best = { rank: layer.rank, path };
    }
  }
  return best;
}

/** The relative module specifiers a TypeScript source imports, re-exports or requires. */
export function relativeImports(source: string): string[] {
  const specifiers: string[] = [];
  const pattern = /(?:\bfrom\s*|\bimport\s*\(?\s*|\brequire\s*\(\s*)['"](\.{1,2}\/[^'"]*)['"]/g;
  for (const match of source.matchAll(pattern)) specifiers.push(match[1]);
  return specifiers;
}

/**
 * Imports between files of `sources` (paths relative to lib/, posix, to their text) that point
 * up the order or across siblings; also every file no layer holds (as `imported: '(no layer)'`).
 */
export function layerViolations(sources: Map<string, string>, layers: Layer[]): LayerViolation[] {
  const violations: LayerViolation[] = [];
  for (const [file, source] of sources) {
    const from = layerOf(file, layers);
    if (!from) {
      violations.push({ file, imported: '(no layer)' });
      continue;
    }
    for (const specifier of relativeImports(source)) {
      const target = resolveInLib(file, specifier, sources);
      if (target === null) continue; // outside lib/ (package.json)
      const to = layerOf(target, layers);
      if (!to) continue; // reported as a file without a layer
      const up = to.rank < from.rank;
      const sideways = to.rank === from.rank && to.path !== from.path;
      if (up || sideways) violations.push({ file, imported: target });
    }
  }
  return violations;
}

/** The lib/ file (relative, posix) a specifier of `file` names, or null when it names none. */
function resolveInLib(file: string, specifier: string, sources: Map<string, string>): string | null {
  const base = posix.normalize(posix.join(posix.dirname(file), specifier));
  for (const candidate of [base, `${base}.ts`, `${base}/index.ts`]) if (sources.has(candidate)) return candidate;
  return null;
}

/** Every .ts file under `libDir`, relative to it (posix) with its text. */
export function readLibSources(libDir: string): Map<string, string> {
  const sources = new Map<string, string>();
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts')) sources.set(relative(libDir, path).split(sep).join('/'), readFileSync(path, 'utf8'));
    }
  };
  if (existsSync(libDir)) walk(libDir);
  return sources;
}
