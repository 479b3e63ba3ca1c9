/**
 * LedgerExceptionFilter in a user's app (not the sample): a user's endpoint answers the ledger's
 * errors with 400 / 422 / 503 and a body naming what went wrong, over real HTTP.
 */
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Body, Controller, INestApplication, Module, Post, UseFilters } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  LedgerClosedError,
  LedgerEventRefusedError,
  LedgerExceptionFilter,
  LedgerModule,
  LedgerValidationError,
  LedgerWriteError,
  PersistentLedger,
  RunEventInput,
  createPersistentLedger,
  ledgerErrorBody,
} from '../../lib';
import { CapturingLogger } from '../helpers/capturing-logger';
import { FIXTURES, LineChild } from '../helpers/child-process';
import { runEventInput } from '../helpers/run-events';
import { makeTempDir, removeTempDirs } from '../helpers/temp-dir';
import { waitUntil } from '../helpers/wait';

@Controller()
@UseFilters(LedgerExceptionFilter)
class UserController {
  constructor(private readonly ledger: PersistentLedger) {}

  @Post('log')
  async log(@Body() body: RunEventInput) {
    const event = this.ledger.logEvent(body);
    await this.ledger.flush();
    return event;
  }

  @Post('closed')
  async closed(@Body() body: RunEventInput) {
    const ledger = createPersistentLedger({ storagePath: makeTempDir(), compactIntervalMs: 0, logger: new CapturingLogger() });
    await ledger.init();
    await ledger.close();
    return ledger.logEvent(body);
  }

  @Post('other')
  other() {
    throw new Error('not a ledger error');
  }
}

describe('LedgerExceptionFilter', () => {
  const root = makeTempDir();
  const storagePath = join(root, 'store');
  let app: INestApplication;
  let base: string;

  beforeAll(async () => {
    @Module({ imports: [LedgerModule.forRoot({ storagePath, compaction: false })], controllers: [UserController] })
    class UserModule {}
    app = await NestFactory.create(UserModule, { logger: new CapturingLogger() });
    await app.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await app.close();
    removeTempDirs();
  });

  const post = async (path: string, body: unknown) => {
    const response = await fetch(base + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  it('a valid event: 201; an invalid one: 400 naming the field', async () => {
    expect((await post('/log', runEventInput({ taskId: 'ok' }))).status).toBe(201);
    const bad = await post('/log', { taskId: 'x', timestamp: 1, diffSummary: { linesAdded: -1 } });
    expect(bad).toEqual({
      status: 400,
      body: { statusCode: 400, error: 'Bad Request', field: 'diffSummary.linesAdded', message: expect.stringContaining('diffSummary.linesAdded') },
    });
  });

  it('a store lock another process took: 503 naming it, and 201 again once that process lets the store go', async () => {
    rmSync(join(storagePath, '.lock'));
    const contender = new LineChild(join(FIXTURES, 'lock-contender.js'), []);
    try {
      contender.send(`GO ${storagePath} 0`);
      expect(await contender.waitFor((l) => /^(WIN|LOCKED|ERR)/.test(l))).toBe('WIN');
      const queued = await post('/log', runEventInput({ taskId: 'queued' }));
      expect(queued).toMatchObject({ status: 503, body: { message: expect.stringContaining('lost its store lock') } });
      const refused = await post('/log', runEventInput({ taskId: 'refused' }));
      expect(refused).toMatchObject({
        status: 503,
        body: { error: 'Service Unavailable', message: expect.stringMatching(/^The ledger lost its store lock/) },
      });
      contender.send('RELEASE');
      await contender.waitFor((l) => l === 'RELEASED');
      await waitUntil(async () => (await post('/log', runEventInput({ taskId: 'after' }))).status === 201, 20_000, 'writes accepted again');
    } finally {
      await contender.kill9();
    }
  });

  it('a failed write: 503 with the cause; a closed ledger: 503; other errors are left to Nest (500)', async () => {
    renameSync(storagePath, join(root, 'moved'));
    writeFileSync(storagePath, 'a file where the store directory was');
    const failed = await post('/log', runEventInput({ taskId: 'during' }));
    expect(failed.status).toBe(503);
    expect(failed.body).toMatchObject({
      statusCode: 503,
      error: 'Service Unavailable',
      message: expect.stringMatching(/Ledger write failed: .*(EEXIST|ENOTDIR)/),
    });
    const closed = await post('/closed', runEventInput());
    expect(closed.status).toBe(503);
    expect(closed.body.message).toContain('is closed');
    expect((await post('/other', {})).status).toBe(500);
  });

  it('maps a refused event to 422 with its ids', () => {
    const refused = new LedgerEventRefusedError(['e1'], '"public"."ledger_events_rejected"', new Error('check violated'));
    expect(ledgerErrorBody(refused)).toMatchObject({ statusCode: 422, eventIds: ['e1'] });
    expect(ledgerErrorBody(new LedgerValidationError('taskId', 'must be a string'))).toMatchObject({ statusCode: 400, field: 'taskId' });
    expect(ledgerErrorBody(new LedgerWriteError(new Error('down'), 3)).statusCode).toBe(503);
    expect(ledgerErrorBody(new LedgerClosedError('x')).statusCode).toBe(503);
  });
});
