import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { Writable } from 'node:stream';
import { Command, Option } from 'commander';
import { RunEvent } from '../../events/run-event.interface';
import { EventQuery } from '../../storage/event-store';
import { StoreCommandOptions, cliLogger, storeCommand, timeOption, writeOut } from '../cli-command-options';
import { ProgressBar } from '../cli-progress-bar';
import { existingStore } from '../cli-store';
import { CSV_HEADER, csvRow } from '../event-csv';

interface ExportCommandOptions extends StoreCommandOptions {
  from?: number;
  to?: number;
  task?: string;
  format: 'ndjson' | 'csv';
  out?: string;
}

/** `nestjs-ledger export [--from TS] [--to TS] [--task ID] [--format ndjson|csv] [--out FILE] <store>`. */
export function registerExportCommand(program: Command): void {
  storeCommand(
    program,
    'export',
    'Stream stored events, filtered by time and task, as NDJSON or CSV to stdout or a file.',
    'Reads without taking the lock. Bounds are inclusive, epoch milliseconds or ISO 8601 dates.\n' +
      'CSV has the standard fields (lists and objects as JSON). With --out, a summary is printed.',
    true,
  )
    .option('--from <time>', 'only events at or after this time', timeOption)
    .option('--to <time>', 'only events at or before this time', timeOption)
    .option('--task <id>', 'only the events of this task')
    .addOption(new Option('--format <format>', 'output format').choices(['ndjson', 'csv']).default('ndjson'))
    .option('--out <file>', 'write to this file instead of stdout')
    .action(async (target: string, options: ExportCommandOptions, command: Command) => {
      const store = await existingStore(target, options, cliLogger(command));
      const out: Writable = options.out ? createWriteStream(options.out) : process.stdout;
      const progress = ProgressBar.create('export', 'events', options, !options.out);
      const query: EventQuery = { from: options.from, to: options.to, taskId: options.task };
      const format = options.format === 'csv' ? csvRow : (event: RunEvent) => JSON.stringify(event) + '\n';
      let exported = 0;
      try {
        const { eventCount: total } = await store.getStats();
        if (options.format === 'csv') await write(out, CSV_HEADER);
        for await (const batch of store.readBatches(query)) {
          await write(out, batch.map(format).join(''));
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

/** Writes, waiting while the stream is full. */
async function write(out: Writable, text: string): Promise<void> {
  if (!out.write(text)) await once(out, 'drain');
}
