import { FileEventStore, PostgresEventStore } from '../lib';
import { CapturingLogger } from './helpers/capturing-logger';
import { describeEventStoreContract } from './helpers/event-store-contract';
import { TestPostgres, startTestPostgres, uniqueSchema } from './helpers/postgres';
import { makeTempDir, removeTempDirs } from './helpers/temp-dir';

describeEventStoreContract('NDJSON files', () => ({
  driver: 'ndjson',
  newLocation: () => makeTempDir('ledger-contract-'),
  create: (location, options) => new FileEventStore({ storagePath: location, logger: new CapturingLogger(), ...options }),
}));

let postgres: TestPostgres;
beforeAll(async () => {
  postgres = await startTestPostgres();
}, 90_000);
afterAll(async () => {
  await postgres?.shutdown();
  removeTempDirs();
});

describeEventStoreContract('PostgreSQL', () => ({
  driver: 'postgres',
  newLocation: () => uniqueSchema('contract'),
  create: (schema, options) => new PostgresEventStore({ connectionString: postgres.connectionString, schema, logger: new CapturingLogger(), ...options }),
}));
