import { AddressInfo } from 'node:net';
import { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { PersistentLedger } from '../../lib';
import { AppModule } from '../../sample/src/app.module';
import { configureApp } from '../../sample/src/configure-app';
import { CapturingLogger } from './capturing-logger';

/** The sample app, in this process, on a loopback port, storing under `storagePath`. */
export interface RunningSample {
  app: INestApplication;
  base: string;
  ledger: PersistentLedger;
  /** A JSON request; resolves with the status and the parsed body. */
  call(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }>;
  /** POSTs a raw body to /runs. */
  postRaw(body: string): Promise<{ status: number; body: any }>;
}

export async function startSampleApp(storagePath: string, logger = new CapturingLogger()): Promise<RunningSample> {
  process.env.LEDGER_STORAGE_PATH = storagePath;
  try {
    const app = await NestFactory.create(AppModule, { logger });
    configureApp(app);
    await app.listen(0, '127.0.0.1');
    const base = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
    const request = async (method: string, path: string, body?: string) => {
      const response = await fetch(base + path, { method, headers: { 'content-type': 'application/json' }, body });
      return { status: response.status, body: (await response.json()) as any };
    };
    return {
      app,
      base,
      ledger: app.get(PersistentLedger),
      call: (method, path, body) => request(method, path, body === undefined ? undefined : JSON.stringify(body)),
      postRaw: (body) => request('POST', '/runs', body),
    };
  } finally {
    delete process.env.LEDGER_STORAGE_PATH;
  }
}
