#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { copyNdjsonToPostgres } from '../postgres/copy-ndjson-to-postgres';

const usage = 'Usage: nestjs-ledger-ndjson-to-postgres --from <storagePath> --to <postgres://...> [--schema public] [--table ledger_events]';

async function main(): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      options: { from: { type: 'string' }, to: { type: 'string' }, schema: { type: 'string' }, table: { type: 'string' }, help: { type: 'boolean' } },
    }));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${usage}\n`);
    return 2;
  }
  if (values.help || !values.from || !values.to) {
    process.stderr.write(`${usage}\n`);
    return values.help ? 0 : 2;
  }
  const { read, tableCount } = await copyNdjsonToPostgres({ from: values.from, connectionString: values.to, schema: values.schema, table: values.table });
  process.stdout.write(`Copied ${read} event(s) from ${values.from}; the table now holds ${tableCount}.\n`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`${(err as Error).name}: ${(err as Error).message}\n`);
    process.exit(1);
  },
);
