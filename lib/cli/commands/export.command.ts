import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { Writable } from 'node:stream';
import { Command, Option } from 'commander';
import { RunEvent } from '../../events/run-event.interface';
import { EventQuery } from '../../storage/event-store';
import { StoreCommandOptions, cliLogger, storeCommand, timeOption, writeOut } from '../cli-command-options';
import { ProgressBar } from '../cli-progress-bar';
import { CliExit, EXIT } from '../cli-exit';
import { existingStore } from '../cli-store';
import { CSV_HEADER, csvRows } from '../event-csv';

interface ExportCommandOptions extends StoreCommandOptions {
  from?: number;
  to?: number;
  task?: string;
  format: 'ndjson' | 'csv';
  out?: string;
  csvRaw?: boolean;
}

/** `nestjs-ledger export [--from TS] [--to TS] [--task ID] [--format ndjson|csv] [--out FILE] <store>`. */
export function registerExportCommand(program: Command): void {
  storeCommand(
    program,
    'export',
    'Stream stored events, filtered by time and task, as NDJSON or CSV to stdout or a file.',
    'Reads without taking the lock. Bounds are inclusive, epoch milliseconds or ISO 8601 dates.\n' +
      'CSV has the standard fields (lists and objects as JSON). A text cell that a spreadsheet would\n' +
      "run as a formula (it starts with = + - @, tab or CR) gets a leading ' and quotes, unless\n" +
      '--csv-raw. With --out, a summary is printed.',
    true,
  )
    .option('--from <time>', 'only events at or after this time', timeOption)
    .option('--to <time>', 'only events at or before this time', timeOption)
    .option('--task <id>', 'only the events of this task')
    .addOption(new Option('--format <format>', 'output format').choices(['ndjson', 'csv']).default('ndjson'))
    .option('--out <file>', 'write to this file instead of stdout')
    .option('--csv-raw', "CSV: write every cell as stored, without the ' before formula-like text (for programs, not spreadsheets)")
    .action(async (target: string, options: ExportCommandOptions, command: Command) => {
      if (options.csvRaw && options.format !== 'csv') throw new CliExit(EXIT.usage, '--csv-raw applies to --format csv');
      const store = await existingStore(target, options, cliLogger(command), 'read');
      const progress = ProgressBar.create('export', 'events', options, !options.out);
      const query: EventQuery = { from: options.from, to: options.to, taskId: options.task };
      const format =
        options.format === 'csv'
          ? (events: RunEvent[]) => csvRows(events, options.csvRaw ? 'raw' : 'neutralise')
          : (events: RunEvent[]) => events.map((event) => JSON.stringify(event) + '\n').join('');
      let exported = 0;
      try {
        const out = options.out ? await openOutput(options.out) : process.stdout;
        const { eventCount: total } = await store.getStats();
        if (options.format === 'csv') await write(out, CSV_HEADER);
        for await (const batch of store.readBatches(query)) {
          await write(out, format(batch));
          exported += batch.length;
          // Against the store's count: with filters, the bar ends short of 100%.
          progress.update(exported, Math.max(total, exported));
        }
        if (out !== process.stdout) {
          out.end();
          await once(out, 'finish');
        }
      } finally {
        progress.stop();
        await store.close();
      }
      if (options.out) {
        if (options.json) await writeOut(JSON.stringify({ exported, out: options.out, format: options.format }) + '\n');
        else await writeOut(`Exported ${exported} event(s) to ${options.out} (${options.format}).\n`);
      }
    });
}

/** The file of --out, opened (a directory that does not exist is a plain error, not a crash). */
async function openOutput(path: string): Promise<Writable> {
  const out = createWriteStream(path);
  try {
    await once(out, 'open');
  } catch (err) {
    throw new CliExit(EXIT.failed, `cannot write ${path}: ${(err as Error).message}`);
  }
  return out;
}

/** Writes, waiting while the stream is full. */
async function write(out: Writable, text: string): Promise<void> {
  if (!out.write(text)) await once(out, 'drain');
}
