#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { NoNdjsonStoreError } from '../errors/no-ndjson-store.error';
import { copyNdjsonToPostgres } from '../storage/copy-ndjson-to-postgres';

const help = `nestjs-ledger-ndjson-to-postgres: copy an NDJSON ledger store into PostgreSQL.

Copies every event of the NDJSON store at --from (the app's storagePath) into the
PostgreSQL events table, in order. Stop the app that writes the NDJSON store
first: the command takes the store's lock and refuses while another process
holds it. It can be run again after an interruption: events already in the
table are skipped, never duplicated.

Usage:
  nestjs-ledger-ndjson-to-postgres --from <storagePath> --to <postgres://user:pass@host:5432/db>
                                   [--schema public] [--table ledger_events]

Options:
  --from <dir>      directory of the NDJSON store (holds events.ndjson); must exist
  --to <url>        PostgreSQL connection string
  --schema <name>   schema of the ledger's tables (default: public)
  --table <name>    events table (default: ledger_events)
  -h, --help        print this help

Exit status: 0 copied, 1 the copy failed (message on stderr), 2 wrong usage.
`;

async function main(): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        from: { type: 'string' },
        to: { type: 'string' },
        schema: { type: 'string' },
        table: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\nRun with --help for the usage.\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(help);
    return 0;
  }
  if (!values.from || !values.to) {
    process.stderr.write(`Missing ${!values.from ? '--from' : '--to'}.\nRun with --help for the usage.\n`);
    return 2;
  }
  try {
    const { read, inserted, tableCount } = await copyNdjsonToPostgres({
      from: values.from,
      connectionString: values.to,
      schema: values.schema,
      table: values.table,
    });
    const skipped = read - inserted;
    process.stdout.write(
      `Read ${read} event(s) from ${values.from}: copied ${inserted} new` +
        (skipped > 0 ? `, ${skipped} already in the table` : '') +
        `; the table now holds ${tableCount}.\n`,
    );
    return 0;
  } catch (err) {
    if (err instanceof NoNdjsonStoreError) {
      process.stderr.write(`${err.message}\n`);
      return 1;
    }
    throw err;
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`${(err as Error).name}: ${(err as Error).message}\n`);
    process.exit(1);
  },
);
