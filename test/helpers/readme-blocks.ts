import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const REPO_ROOT = join(__dirname, '..', '..');

/** A TypeScript code block of the documentation, and what it needs to compile. */
export interface ReadmeBlock {
  /** 1-based index among the TypeScript blocks of all the documentation (the README's come first). */
  index: number;
  /** The Markdown file it is in, relative to the repository (`README.md`, `docs/replicas.md`). */
  file: string;
  /** Line of that file where the block's code starts. */
  line: number;
  code: string;
  /** Uses top-level await: compiles only in an ESM app. */
  esmOnly: boolean;
  /** Imports `pg`: compiles only where `pg` is installed. */
  needsPg: boolean;
}

/**
 * The Markdown files whose ```ts blocks are type-checked, relative to the repository: the README
 * first (its first block is the Quick start module), then every `docs/*.md`, then `CONTRIBUTING.md`.
 */
export function documentationFiles(repo = REPO_ROOT): string[] {
  const docs = readdirSync(join(repo, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => `docs/${f}`);
  return ['README.md', ...docs, 'CONTRIBUTING.md'];
}

/** Every ```ts block of the documentation, in the order of `documentationFiles()`, then of each file. */
export function documentationTypeScriptBlocks(repo = REPO_ROOT): ReadmeBlock[] {
  const blocks: ReadmeBlock[] = [];
  for (const file of documentationFiles(repo)) {
    for (const block of typeScriptBlocksOf(readFileSync(join(repo, file), 'utf8'))) {
      blocks.push({ index: blocks.length + 1, file, ...block });
    }
  }
  return blocks;
}

/** The ```ts blocks of one Markdown text, in order. */
function typeScriptBlocksOf(markdown: string): Omit<ReadmeBlock, 'index' | 'file'>[] {
  const lines = markdown.split('\n');
  const blocks: Omit<ReadmeBlock, 'index' | 'file'>[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].trim() !== '```ts') continue;
    const start = i + 1;
    let end = start;
    while (end < lines.length && lines[end].trim() !== '```') end++;
    const code = lines.slice(start, end).join('\n') + '\n';
    blocks.push({
      line: start + 1,
      code,
      esmOnly: /^await /m.test(code) || /^const \w+ = await /m.test(code),
      needsPg: /from 'pg'/.test(code),
    });
    i = end;
  }
  return blocks;
}
