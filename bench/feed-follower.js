'use strict';
// A replica that only follows the feed of a PostgreSQL table (for `npm run bench`):
// prints READY once it has caught up, and closes when its stdin ends.
const { createPersistentLedger, PostgresEventStore } = require('../dist');

const [connectionString, schema] = process.argv.slice(2);
const quiet = { log() {}, warn() {}, error() {}, debug() {}, verbose() {} };

(async () => {
  const store = new PostgresEventStore({ connectionString, schema, logger: quiet });
  const ledger = createPersistentLedger({ store, compactIntervalMs: 0, highWaterMark: 0, maxEvents: 1e9, logger: quiet });
  await ledger.init();
  process.stdout.write('READY\n');
  process.stdin.resume();
  process.stdin.on('end', () => ledger.close().then(() => process.exit(0)));
})();
