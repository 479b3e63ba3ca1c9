/**
 * The documentation as a reader follows it: a README short enough to finish that links every page
 * of docs/, pages that lead back to it, links and #anchors that all resolve, and every ```ts block
 * of it collected for the consumer test's strict type-check (test/consumer-install.spec.ts).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { documentationFiles, documentationTypeScriptBlocks } from '../helpers/readme-blocks';

const REPO = join(__dirname, '..', '..');
const read = (file: string) => readFileSync(join(REPO, file), 'utf8');

/** The text outside fenced code blocks (where a `](` is code, not a link). */
function prose(markdown: string): string {
  return markdown.replace(/^```[^\n]*\n[\s\S]*?^```$/gm, '');
}

/** The anchors GitHub gives a file's headings: lower case, punctuation dropped, spaces as dashes. */
function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  for (const [, text] of prose(markdown).matchAll(/^#{1,6} (.+)$/gm)) {
    const base = text
      .toLowerCase()
      .replace(/[^\p{L}\p{N} _-]/gu, '')
      .replace(/ /g, '-');
    let anchor = base;
    for (let n = 1; anchors.has(anchor); n++) anchor = `${base}-${n}`;
    anchors.add(anchor);
  }
  return anchors;
}

describe('The documentation', () => {
  const files = documentationFiles();
  const pages = files.filter((f) => f.startsWith('docs/'));

  it('has a README under 300 lines that links every page of docs/', () => {
    const readme = read('README.md');
    expect(readme.split('\n').length).toBeLessThan(300);
    expect(pages.length).toBeGreaterThan(0);
    for (const page of pages) expect(readme).toContain(`](${page})`);
    expect(readme).toContain('](CONTRIBUTING.md)');
  });

  it('keeps the two commands for a fresh machine and the Install section in the README', () => {
    const readme = read('README.md');
    expect(readme).toContain('npm ci && npm run start:sample');
    expect(readme).toContain('npm ci && npm test');
    expect(readme).toContain('## Install');
  });

  it.each(pages)('%s starts with its title, then a one-line summary that links back to the README', (page) => {
    const [title, blank, summary] = read(page).split('\n');
    expect(title).toMatch(/^# \S/);
    expect(blank).toBe('');
    expect(summary).toContain('](../README.md)');
  });

  it.each(files)('%s: every relative link and #anchor resolves', (file) => {
    const text = read(file);
    const links = [...prose(text).matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]).filter((l) => !/^[a-z]+:/.test(l));
    for (const link of links) {
      const [path, anchor] = link.split('#');
      const target = path === '' ? file : normalize(join(dirname(file), path));
      expect({ link, exists: existsSync(join(REPO, target)) }).toEqual({ link, exists: true });
      if (anchor !== undefined)
        expect({ link, anchors: [...headingAnchors(read(target))] }).toEqual({ link, anchors: expect.arrayContaining([anchor]) });
    }
  });

  it('collects every ```ts block of README.md, docs/*.md and CONTRIBUTING.md for the type-check, the Quick start first', () => {
    const blocks = documentationTypeScriptBlocks();
    for (const file of files) {
      const fences = read(file)
        .split('\n')
        .filter((l) => l.trim() === '```ts').length;
      expect({ file, collected: blocks.filter((b) => b.file === file).length }).toEqual({ file, collected: fences });
    }
    expect(blocks.some((b) => b.file.startsWith('docs/'))).toBe(true);
    expect(blocks[0]).toMatchObject({ index: 1, file: 'README.md' });
    expect(blocks[0].code).toContain('LedgerModule.forRoot(');
    console.log(`documentation: ${blocks.length} TypeScript block(s) in ${new Set(blocks.map((b) => b.file)).size} file(s) of ${files.join(', ')}`);
  });
});
