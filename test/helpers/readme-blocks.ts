import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** A TypeScript code block of the README, and what it needs to compile. */
export interface ReadmeBlock {
  /** 1-based index among the TypeScript blocks. */
  index: number;
  /** README line where the block's code starts. */
  line: number;
  code: string;
  /** Uses top-level await: compiles only in an ESM app. */
  esmOnly: boolean;
  /** Imports `pg`: compiles only where `pg` is installed. */
  needsPg: boolean;
}

/** Every ```ts block of the README, in order. */
export function readmeTypeScriptBlocks(readmePath = join(__dirname, '..', '..', 'README.md')): ReadmeBlock[] {
  const lines = readFileSync(readmePath, 'utf8').split('\n');
  const blocks: ReadmeBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].trim() !== '```ts') continue;
    const start = i + 1;
    let end = start;
    while (end < lines.length && lines[end].trim() !== '```') end++;
    const code = lines.slice(start, end).join('\n') + '\n';
    blocks.push({
      index: blocks.length + 1,
      line: start + 1,
      code,
      esmOnly: /^await /m.test(code) || /^const \w+ = await /m.test(code),
      needsPg: /from 'pg'/.test(code),
    });
    i = end;
  }
  return blocks;
}
