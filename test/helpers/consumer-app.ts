import { spawnSync, SpawnSyncReturns } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export const REPO = join(__dirname, '..', '..');
/**
 * Scratch apps live here between runs, so that their node_modules is installed
 * once per machine; each run installs only the new tarball into them.
 * `NESTJS_LEDGER_CONSUMER_CACHE` moves it (two checkouts testing at once need one each).
 */
export const CONSUMER_CACHE = process.env.NESTJS_LEDGER_CONSUMER_CACHE ?? join(tmpdir(), 'nestjs-ledger-consumers');

/** One kind of application a user would have. */
export interface ConsumerSpec {
  name: string;
  /** `module` for an ESM app (`nest new` 12), `commonjs` for a Nest 11 app. */
  type: 'module' | 'commonjs';
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  compilerOptions: Record<string, unknown>;
}

export function run(
  command: string,
  args: string[],
  cwd: string,
  timeoutMs = 300_000,
  extraEnv: Record<string, string> = {},
): SpawnSyncReturns<string> {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', timeout: timeoutMs, env: { ...process.env, ...extraEnv } });
  if (result.error) throw result.error;
  return result;
}

/** Fails with the command's output when it did not exit 0. */
export function runOk(command: string, args: string[], cwd: string, timeoutMs?: number): SpawnSyncReturns<string> {
  const result = run(command, args, cwd, timeoutMs);
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} (in ${cwd}) exited ${result.status}\n${result.stdout}\n${result.stderr}`);
  }
  return result;
}

/**
 * Packs the library as a user's `npm pack` would, from a copy of the tracked
 * sources without any dist (so `prepack` must build it), and returns the
 * tarball, renamed after its content so that an install sees every change.
 */
export function packLibrary(): string {
  const source = join(CONSUMER_CACHE, 'source');
  copyTrackedSources(source);
  symlinkSync(join(REPO, 'node_modules'), join(source, 'node_modules'));
  const packed = runOk('npm', ['pack', '--json', '--pack-destination', source], source);
  const [{ filename }] = JSON.parse(packed.stdout.slice(packed.stdout.indexOf('['))) as { filename: string }[];
  const bytes = readFileSync(join(source, filename));
  const tarballs = join(CONSUMER_CACHE, 'tarballs');
  mkdirSync(tarballs, { recursive: true });
  for (const old of readdirSync(tarballs)) rmSync(join(tarballs, old), { force: true });
  const tarball = join(tarballs, `nestjs-ledger-${createHash('sha256').update(bytes).digest('hex').slice(0, 12)}.tgz`);
  writeFileSync(tarball, bytes);
  return tarball;
}

/** What a fresh clone of the working tree holds, at `target` (emptied first): the tracked files as they are now, no node_modules, no dist. */
export function copyTrackedSources(target: string): void {
  rmSync(target, { recursive: true, force: true });
  mkdirSync(target, { recursive: true });
  const tracked = runOk('git', ['ls-files', '-z'], REPO).stdout.split('\0').filter(Boolean);
  for (const file of tracked) {
    if (!existsSync(join(REPO, file))) continue;
    mkdirSync(dirname(join(target, file)), { recursive: true });
    cpSync(join(REPO, file), join(target, file));
  }
}

/** Files in a tarball, without the leading `package/`. */
export function tarballFiles(tarball: string): string[] {
  return runOk('tar', ['tzf', tarball], REPO)
    .stdout.split('\n')
    .filter(Boolean)
    .map((f) => f.replace(/^package\//, ''));
}

/**
 * Writes the scratch app (package.json depending on the tarball, tsconfig,
 * sources) and runs a plain `npm install` in it. Returns its directory and the install's output.
 */
export function installConsumer(
  spec: ConsumerSpec,
  tarball: string,
  sources: Record<string, string>,
): { dir: string; install: SpawnSyncReturns<string> } {
  const dir = join(CONSUMER_CACHE, spec.name);
  mkdirSync(dir, { recursive: true });
  rmSync(join(dir, 'src'), { recursive: true, force: true });
  rmSync(join(dir, 'dist'), { recursive: true, force: true });
  rmSync(join(dir, '.ledger'), { recursive: true, force: true });
  const pkg = {
    name: `consumer-${spec.name}`,
    private: true,
    type: spec.type,
    dependencies: { ...spec.dependencies, 'nestjs-ledger': `file:${tarball}` },
    devDependencies: spec.devDependencies,
  };
  writeFileSync(join(dir, 'package.json'), JSON.stringify(pkg, null, 2));
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: spec.compilerOptions, include: ['src'] }, null, 2));
  for (const [path, text] of Object.entries(sources)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  const install = run('npm', ['install', '--no-audit', '--no-fund'], dir);
  return { dir, install };
}
