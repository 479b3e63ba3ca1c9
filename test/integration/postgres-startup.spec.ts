import { Test } from '@nestjs/testing';
import { Pool } from 'pg';
import { LedgerConfigError, LedgerModule, LedgerModuleOptions, LedgerStorageUnavailableError, PersistentLedger } from '../../lib';
import { CapturingLogger } from '../helpers/capturing-logger';
import { freePort, startEmbeddedPostgres, uniqueSchema, usePostgres } from '../helpers/postgres';
import { runEventInput } from '../helpers/run-events';
import { waitUntil } from '../helpers/wait';

/** Starts a Nest app with the ledger; `logger` receives what the app logs (the store's warnings included). */
async function boot(options: LedgerModuleOptions, logger: CapturingLogger) {
  const moduleRef = await Test.createTestingModule({ imports: [LedgerModule.forRoot({ compaction: false, ...options })] })
    .setLogger(logger)
    .compile();
  return moduleRef.createNestApplication({ logger }).init();
}

/** `connectionString` with another password. */
function withPassword(connectionString: string, password: string): string {
  const url = new URL(connectionString);
  url.password = password;
  return url.href;
}

describe('PostgreSQL storage at startup: unreachable or refusing', () => {
  // Embedded always (even with DATABASE_URL): one test stops the server and starts it again.
  const server = usePostgres(startEmbeddedPostgres);

  it('retries a server nobody listens on, warning at each attempt, then fails with a typed error naming the option, the host and what to check', async () => {
    const port = await freePort();
    const logger = new CapturingLogger();
    const error = await boot(
      { storage: { type: 'postgres', connectionString: `postgres://ledger:s3cret-pw@127.0.0.1:${port}/ledger`, retryAttempts: 2, retryDelayMs: 10 } },
      logger,
    ).catch((e) => e);
    expect(error).toBeInstanceOf(LedgerStorageUnavailableError);
    expect(error.option).toBe('storage');
    expect(error.code).toBe('ECONNREFUSED');
    expect(error.attempts).toBe(3);
    expect(error.message).toContain(`PostgreSQL storage (option "storage") at ledger@127.0.0.1:${port}/ledger`);
    expect(error.message).toContain(`after 3 attempts: connect ECONNREFUSED 127.0.0.1:${port}`);
    expect(error.message).toContain(`Check that PostgreSQL is running and listening on 127.0.0.1:${port}`);
    expect(error.message).not.toContain('s3cret-pw');
    const warnings = logger.messages('warn').filter((m) => m.includes('PostgreSQL storage'));
    expect(warnings).toEqual([
      expect.stringMatching(
        new RegExp(
          `^Cannot open the PostgreSQL storage at ledger@127.0.0.1:${port}/ledger \\(attempt 1/3\\): connect ECONNREFUSED .*; retrying in 10 ms$`,
        ),
      ),
      expect.stringMatching(/\(attempt 2\/3\): connect ECONNREFUSED .*; retrying in 20 ms$/),
    ]);
    expect(warnings.join('\n')).not.toContain('s3cret-pw');
  });

  it('says the password was refused (and not the password) when the server refuses it', async () => {
    const logger = new CapturingLogger();
    const error = await boot(
      { storage: { type: 'postgres', connectionString: withPassword(server().connectionString, 'wrong-pw'), retryAttempts: 0 } },
      logger,
    ).catch((e) => e);
    expect(error).toBeInstanceOf(LedgerStorageUnavailableError);
    expect(error.code).toBe('28P01');
    expect(error.attempts).toBe(1);
    expect(error.message).toMatch(/at ledger@127\.0\.0\.1:\d+\/ledger after 1 attempt: password authentication failed for user "ledger"/);
    expect(error.message).toContain('Check the user name and password in storage.connectionString');
    expect(error.message).not.toContain('wrong-pw');
  });

  it('starts once the server comes up, thanks to the retries', async () => {
    await server().stop();
    const logger = new CapturingLogger();
    const schema = uniqueSchema('late');
    const booting = boot(
      { storage: { type: 'postgres', connectionString: server().connectionString, schema, retryAttempts: 100, retryDelayMs: 50 } },
      logger,
    );
    booting.catch(() => undefined);
    try {
      await waitUntil(() => logger.messages('warn').some((m) => m.includes('(attempt 1/101)')), 20_000, 'a first failed attempt');
    } finally {
      await server().start();
    }
    const app = await booting;
    const ledger = app.get(PersistentLedger);
    ledger.logEvent(runEventInput({ taskId: 'late-server' }));
    await ledger.flush();
    expect(await ledger.getStorageStats()).toMatchObject({ driver: 'postgres', eventCount: 1 });
    await app.close();
  }, 60_000);

  it('does not retry what no retry can cure: a table from a newer release fails at the first attempt', async () => {
    const schema = uniqueSchema('newer');
    const pool = new Pool({ connectionString: server().connectionString });
    await pool.query(
      `CREATE SCHEMA "${schema}"; CREATE TABLE "${schema}".ledger_events_schema (version integer NOT NULL); INSERT INTO "${schema}".ledger_events_schema VALUES (99)`,
    );
    await pool.end();
    const logger = new CapturingLogger();
    const error = await boot(
      { storage: { type: 'postgres', connectionString: server().connectionString, schema, retryAttempts: 5, retryDelayMs: 10 } },
      logger,
    ).catch((e) => e);
    expect(error).toBeInstanceOf(LedgerConfigError);
    expect(error.message).toContain('newer than this release supports');
    expect(logger.messages('warn').filter((m) => m.includes('attempt'))).toEqual([]);
  });

  it.each([
    [{ retryAttempts: -1 }, 'storage.retryAttempts', /must be a non-negative integer \(got number -1\)/],
    [{ retryAttempts: '3' }, 'storage.retryAttempts', /must be a non-negative integer \(got string "3"\)/],
    [{ retryDelayMs: 1.5 }, 'storage.retryDelayMs', /must be a non-negative integer/],
    [{ retryDelayMs: 2 ** 31 }, 'storage.retryDelayMs', /at most 2147483647/],
    [{ retryDelay: 3000 }, 'storage.retryDelay', /did you mean "storage.retryDelayMs"\?/],
  ])('checks the retry options %j at startup, naming %s', async (retry, option, problem) => {
    const error = await boot({ storage: { type: 'postgres', connectionString: 'postgres://x', ...(retry as object) } }, new CapturingLogger()).catch(
      (e) => e,
    );
    expect(error).toBeInstanceOf(LedgerConfigError);
    expect(error.option).toBe(option);
    expect(error.message).toMatch(problem);
  });
});
