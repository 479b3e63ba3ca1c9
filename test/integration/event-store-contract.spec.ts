import { FileEventStore, MemoryEventLog, MemoryEventStore, PostgresEventStore } from '../../lib';
import { CapturingLogger } from '../helpers/capturing-logger';
import { describeEventStoreContract, describeQueuedStoreBehaviour, StoreFactory } from '../helpers/event-store-contract';
import { uniqueSchema, usePostgres } from '../helpers/postgres';
import { makeTempDir, removeTempDirs } from '../helpers/temp-dir';

const postgres = usePostgres();
afterAll(removeTempDirs);

const ndjson = (): StoreFactory<FileEventStore> => ({
  driver: 'ndjson',
  sharedByReplicas: false,
  newLocation: () => makeTempDir('ledger-contract-'),
  create: (location, options) => new FileEventStore({ storagePath: location, logger: new CapturingLogger(), ...options }),
});

const pg = (): StoreFactory<PostgresEventStore> => ({
  driver: 'postgres',
  sharedByReplicas: true,
  newLocation: () => uniqueSchema('contract'),
  create: (schema, options) =>
    new PostgresEventStore({ connectionString: postgres().connectionString, schema, logger: new CapturingLogger(), ...options }),
});

/** Locations of the in-memory store are logs kept by name, so that "the same location" opens the same data. */
const memoryLogs = new Map<string, MemoryEventLog>();
const memory = (): StoreFactory<MemoryEventStore> => ({
  driver: 'memory',
  sharedByReplicas: false,
  newLocation: () => {
    const name = `memory-${memoryLogs.size}`;
    memoryLogs.set(name, new MemoryEventLog());
    return name;
  },
  create: (name, options) => new MemoryEventStore({ log: memoryLogs.get(name), ...options }),
});

describeEventStoreContract('NDJSON files', ndjson);
describeEventStoreContract('PostgreSQL', pg);
describeEventStoreContract('in memory', memory);

describeQueuedStoreBehaviour('NDJSON files', ndjson);
describeQueuedStoreBehaviour('PostgreSQL', pg);
