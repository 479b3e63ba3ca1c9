/**
 * The README's Install section, run as written: its commands for a clone of the repository in a
 * fresh copy of the working tree (no node_modules, no dist), then the tarball installed into a
 * scratch app; what npm prints there is what the README explains.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { CONSUMER_CACHE, REPO, copyTrackedSources, run, runOk } from '../helpers/consumer-app';

/** The commands of the Install block's first step ("in a clone of this repository"). */
function cloneCommands(readme: string): string[] {
  const install = readme.slice(readme.indexOf('## Install'));
  const block = /```bash\n([\s\S]*?)```/.exec(install)![1].split('\n');
  const start = block.findIndex((l) => l.startsWith('# in a clone of this repository'));
  const end = block.findIndex((l, i) => i > start && l.startsWith('#'));
  return block.slice(start + 1, end).filter((l) => l.trim() !== '');
}

describe("The README's Install section, as written", () => {
  const readme = readFileSync(join(REPO, 'README.md'), 'utf8');

  it('packs the library in a fresh clone, and says what the tarball install prints', () => {
    const clone = join(CONSUMER_CACHE, 'fresh-clone');
    copyTrackedSources(clone);
    const commands = cloneCommands(readme);
    expect(commands.length).toBeGreaterThan(0);
    for (const command of commands) runOk('sh', ['-c', command], clone, 600_000);
    const tarballs = readdirSync(clone).filter((f) => /^nestjs-ledger-.*\.tgz$/.test(f));
    expect(tarballs).toHaveLength(1);

    const app = join(CONSUMER_CACHE, 'readme-install');
    runOk('sh', ['-c', `rm -rf ${JSON.stringify(app)} && mkdir -p ${JSON.stringify(app)}`], CONSUMER_CACHE);
    runOk('npm', ['init', '-y'], app);
    const install = runOk('npm', ['install', '--no-audit', '--no-fund', join(clone, tarballs[0]), '@nestjs/schedule'], app, 600_000);
    const loaded = runOk(process.execPath, ['-e', "console.log(typeof require('nestjs-ledger').LedgerModule.forRoot)"], app);
    expect(loaded.stdout.trim()).toBe('function');
    // Each warning npm gives about the package's scripts is one the README explains, word for word.
    const listed = install.stderr.split('\n').filter((l) => /^npm warn install-scripts +nestjs-ledger@/.test(l));
    for (const line of listed) expect(readme.replace(/\s+/g, ' ')).toContain(line.replace(/^npm warn install-scripts +/, ''));
    console.log(
      `README install: ${commands.join('; ')}; npm ${run('npm', ['--version'], app).stdout.trim()} listed ${listed.length} install-script warning(s)`,
    );
  }, 900_000);
});
