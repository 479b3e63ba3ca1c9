import { FileEventStore, PostgresEventStore } from '../lib';
import { CapturingLogger } from './helpers/capturing-logger';
import { describeEventStoreContract } from './helpers/event-store-contract';
import { uniqueSchema, usePostgres } from './helpers/postgres';
import { makeTempDir, removeTempDirs } from './helpers/temp-dir';

describeEventStoreContract('NDJSON files', () => ({
  driver: 'ndjson',
  sharedByReplicas: false,
  newLocation: () => makeTempDir('ledger-contract-'),
  create: (location, options) => new FileEventStore({ storagePath: location, logger: new CapturingLogger(), ...options }),
}));

const postgres = usePostgres();
afterAll(removeTempDirs);

describeEventStoreContract('PostgreSQL', () => ({
  driver: 'postgres',
  sharedByReplicas: true,
  newLocation: () => uniqueSchema('contract'),
  create: (schema, options) =>
    new PostgresEventStore({ connectionString: postgres().connectionString, schema, logger: new CapturingLogger(), ...options }),
}));
