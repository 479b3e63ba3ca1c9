/**
 * The library as a user gets it: packed with `npm pack` (which must build it),
 * installed with a plain `npm install` into scratch apps outside the
 * repository, one per supported Nest major, then type-checked strictly (with
 * every TypeScript block of the README, docs/*.md and CONTRIBUTING.md) and booted. Also installed from git.
 * The registry is real; the apps' node_modules are kept between runs.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { CONSUMER_CACHE, ConsumerSpec, REPO, installConsumer, packLibrary, run, runOk, tarballFiles } from '../helpers/consumer-app';
import { documentationTypeScriptBlocks } from '../helpers/readme-blocks';

const STRICT = { strict: true, exactOptionalPropertyTypes: true, skipLibCheck: false, strictPropertyInitialization: false };

const consumers: ConsumerSpec[] = [
  {
    // As `nest new` 12 makes it: ESM, TypeScript 6, module nodenext; no pg at all.
    name: 'nest12-esm',
    type: 'module',
    dependencies: {
      '@nestjs/common': '^12.0.1',
      '@nestjs/core': '^12.0.1',
      '@nestjs/schedule': '^12.0.0',
      '@nestjs/config': '^12.0.0',
      '@nestjs/terminus': '^12.0.0',
      '@nestjs/testing': '^12.0.1',
      '@opentelemetry/api': '^1.9.0',
      '@opentelemetry/sdk-metrics': '~2.12.0',
      '@opentelemetry/exporter-prometheus': '~0.223.0',
      'reflect-metadata': '^0.2.2',
      rxjs: '^7.8.1',
    },
    devDependencies: { '@types/node': '^24.0.0', typescript: '^6.0.2' },
    compilerOptions: {
      module: 'nodenext',
      moduleResolution: 'nodenext',
      resolvePackageJsonExports: true,
      esModuleInterop: true,
      isolatedModules: true,
      emitDecoratorMetadata: true,
      experimentalDecorators: true,
      allowSyntheticDefaultImports: true,
      target: 'ES2023',
      outDir: './dist',
      rootDir: './src',
      types: ['node'],
      ...STRICT,
    },
  },
  {
    // As `nest new` 11 makes it: CommonJS, TypeScript 5; with pg and @types/pg (the pool block of the README).
    name: 'nest11-cjs',
    type: 'commonjs',
    dependencies: {
      '@nestjs/common': '^11.0.1',
      '@nestjs/core': '^11.0.1',
      '@nestjs/schedule': '^6.0.0',
      '@nestjs/config': '^4.0.0',
      '@nestjs/terminus': '^11.0.0',
      '@nestjs/testing': '^11.0.1',
      '@opentelemetry/api': '^1.9.0',
      '@opentelemetry/sdk-metrics': '~2.12.0',
      '@opentelemetry/exporter-prometheus': '~0.223.0',
      'reflect-metadata': '^0.2.2',
      rxjs: '^7.8.1',
      pg: '^8.11.0',
    },
    devDependencies: { '@types/node': '^22.10.7', '@types/pg': '^8.11.0', typescript: '~5.9.3' },
    compilerOptions: {
      module: 'commonjs',
      moduleResolution: 'node',
      declaration: true,
      emitDecoratorMetadata: true,
      experimentalDecorators: true,
      allowSyntheticDefaultImports: true,
      target: 'ES2023',
      outDir: './dist',
      rootDir: './src',
      types: ['node'],
      ...STRICT,
    },
  },
];

/** The driver and every documentation block (README, docs/*.md, CONTRIBUTING.md) that applies to this app. */
function sourcesFor(spec: ConsumerSpec): Record<string, string> {
  const sources: Record<string, string> = {
    'src/main.ts': readFileSync(join(__dirname, '..', 'fixtures', 'consumer-app', 'src', 'main.ts'), 'utf8'),
  };
  const withPg = 'pg' in spec.dependencies;
  for (const block of documentationTypeScriptBlocks()) {
    if (block.esmOnly && spec.type !== 'module') continue;
    if (block.needsPg && !withPg) continue;
    // The Quick start (the README's first block) is the module the driver boots; the others are compiled beside it.
    const from = block.file.replace(/\.md$/, '').replace(/\W+/g, '-');
    const file = block.index === 1 ? 'app.module.ts' : `block-${block.index}-${from}-line-${block.line}.ts`;
    sources[`src/readme/${file}`] = block.code;
  }
  return sources;
}

describe('Installing the packed library into Nest apps (real registry, plain npm install)', () => {
  let tarball: string;

  beforeAll(() => {
    tarball = packLibrary();
  }, 300_000);

  it("the tarball holds the built library, its typings, the dashboard's page, LICENSE and README, and nothing else", () => {
    const files = tarballFiles(tarball);
    expect(files).toEqual(
      expect.arrayContaining(['package.json', 'README.md', 'LICENSE', 'dist/index.js', 'dist/index.d.ts', 'dist/cli/ndjson-to-postgres.js']),
    );
    // The dashboard's page ships inside the package: its HTML, styles and script (no CDN).
    expect(files.filter((f) => !/^dist\/.+\.(js|d\.ts)$/.test(f)).sort()).toEqual([
      'LICENSE',
      'README.md',
      'dist/dashboard/assets/dashboard.css',
      'dist/dashboard/assets/dashboard.html',
      'package.json',
    ]);
    expect(files).toContain('dist/dashboard/assets/dashboard.js');
    // Source maps would point at lib/*.ts, which is not shipped: there are none.
    expect(files.filter((f) => f.endsWith('.map'))).toEqual([]);
  });

  it('the public typings never import pg, cron, pg-copy-streams or OpenTelemetry (an app compiles without them)', () => {
    const source = join(CONSUMER_CACHE, 'source');
    const reachable = runOk(
      join(REPO, 'node_modules', '.bin', 'tsc'),
      ['--noEmit', '--listFilesOnly', '--skipLibCheck', 'false', '--types', 'node', join(source, 'dist', 'index.d.ts')],
      source,
    ).stdout;
    const ours = reachable.split('\n').filter((f) => f.includes(join(source, 'dist')));
    expect(ours.length).toBeGreaterThan(20);
    const optional =
      /from ['"](pg|cron|pg-copy-streams|@opentelemetry\/[\w-]+)['"]|import\(['"](pg|cron|pg-copy-streams|@opentelemetry\/[\w-]+)['"]\)/;
    for (const file of ours) expect(readFileSync(file, 'utf8')).not.toMatch(optional);
  });

  it.each(consumers.map((c) => [c.name, c] as const))(
    '%s: installs, type-checks the documentation blocks strictly, boots, logs, schedules compaction and closes',
    (_name, spec) => {
      const { dir, install } = installConsumer(spec, tarball, sourcesFor(spec));
      expect(install.stderr).not.toMatch(/ERESOLVE|peer dep/i);
      expect(install.status).toBe(0);

      // One copy of cron: the ledger's job is the kind of object the scheduler's registry holds.
      const crons = run('npm', ['ls', 'cron', '--all', '--parseable'], dir).stdout.split('\n').filter(Boolean);
      expect(crons).toHaveLength(1);

      const compiled = run(join(dir, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.json'], dir);
      expect(`${compiled.stdout}${compiled.stderr}`).toBe('');
      expect(compiled.status).toBe(0);

      const booted = run(process.execPath, [join('dist', 'main.js')], dir, 60_000);
      expect(booted.stderr).toBe('');
      expect(booted.status).toBe(0);
      const seen = JSON.parse(booted.stdout.trim().split('\n').pop()!);
      expect(seen).toEqual({
        nest: expect.stringMatching(spec.name === 'nest12-esm' ? /^12\./ : /^11\./),
        eventCount: 1,
        pendingEvents: 0,
        verdicts: ['tests-pass', 'forbidden-command-scan', 'forbidden-dependency-scan', 'violation-rate', 'diff-quality'],
        jobIsCronJob: true,
        sameStore: true,
        taskOnDisk: ['consumer-task'],
        lockReleased: true,
      });
      console.log(
        `consumer ${spec.name}: Nest ${seen.nest}, ${Object.keys(sourcesFor(spec)).length - 1} documentation block(s) type-checked, booted and closed`,
      );
    },
    600_000,
  );

  it('on a Node.js without require(esm), a Nest 12 app stops with an error that says what to do', () => {
    const dir = join(CONSUMER_CACHE, 'nest12-esm');
    expect(existsSync(join(dir, 'dist', 'main.js'))).toBe(true);
    rmSync(join(dir, '.ledger'), { recursive: true, force: true });
    const result = run(process.execPath, ['--no-experimental-require-module', join('dist', 'main.js')], dir, 60_000);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/nestjs-ledger cannot load @nestjs\/common on Node\.js v[\d.]+: .*Run Node\.js 20\.19 or later/);
  });

  it('installs from git: npm builds it (prepare), and the package and its command work', () => {
    const clone = join(CONSUMER_CACHE, 'git-origin');
    rmSync(clone, { recursive: true, force: true });
    runOk('git', ['clone', '--quiet', REPO, clone], CONSUMER_CACHE);
    const app = join(CONSUMER_CACHE, 'git-install');
    rmSync(app, { recursive: true, force: true });
    runOk('mkdir', ['-p', app], CONSUMER_CACHE);
    runOk('npm', ['init', '-y'], app);
    const install = run('npm', ['install', '--no-audit', '--no-fund', `git+file://${clone}`], app, 600_000);
    expect(install.stderr).not.toMatch(/ERESOLVE/);
    expect(install.status).toBe(0);
    expect(existsSync(join(app, 'node_modules', 'nestjs-ledger', 'dist', 'index.d.ts'))).toBe(true);
    const loaded = runOk(
      process.execPath,
      ['-e', "const l = require('nestjs-ledger'); console.log(typeof l.LedgerModule.forRoot, typeof l.PersistentLedger)"],
      app,
    );
    expect(loaded.stdout.trim()).toBe('function function');
    const help = runOk('npx', ['--no-install', 'nestjs-ledger-ndjson-to-postgres', '--help'], app);
    expect(help.stdout).toMatch(/copy an NDJSON ledger store into PostgreSQL/);
    const ledgerHelp = runOk('npx', ['--no-install', 'nestjs-ledger', '--help'], app);
    expect(ledgerHelp.stdout).toMatch(/Usage: nestjs-ledger \[options\] \[command\]/);
  }, 600_000);
});
