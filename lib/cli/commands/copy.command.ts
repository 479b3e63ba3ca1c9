import { Command } from 'commander';
import { copyEvents } from '../../storage/copy-events';
import { CliExit, EXIT } from '../cli-exit';
import { StoreCommandOptions, cliLogger, writeOut } from '../cli-command-options';
import { ProgressBar } from '../cli-progress-bar';
import { describeStore, existingStore, openStore } from '../cli-store';

interface CopyCommandOptions extends StoreCommandOptions {
  from: string;
  to: string;
}

/** `nestjs-ledger copy --from SRC --to DST`: NDJSON to PostgreSQL and back (or NDJSON to NDJSON). */
export function registerCopyCommand(program: Command): void {
  const summary = 'Copy every event of one store into another, in order: NDJSON to PostgreSQL and back.';
  program
    .command('copy')
    .summary(summary)
    .description(
      `${summary}\n\nEvents keep their ids. ` +
        'Run it again after an interruption: events the target already holds are skipped, never\n' +
        'duplicated. An NDJSON source or target is locked for the copy: stop the app that writes it\n' +
        '(exit 4 otherwise). --schema/--table name the PostgreSQL side(s).',
    )
    .requiredOption('--from <store>', 'source: NDJSON store directory or postgres:// URL (must exist)')
    .requiredOption('--to <store>', 'target: NDJSON store directory or postgres:// URL (created if missing)')
    .option('--schema <name>', 'PostgreSQL schema of the ledger tables (default: public)')
    .option('--table <name>', 'PostgreSQL events table (default: ledger_events)')
    .option('--json', 'print the result as JSON, for scripts')
    .option('--progress', 'draw the progress bar even when stderr is not a terminal')
    .option('--no-progress', 'never draw the progress bar')
    .action(async (options: CopyCommandOptions, command: Command) => {
      if (options.from === options.to) throw new CliExit(EXIT.usage, '--from and --to are the same store');
      const logger = cliLogger(command);
      const source = await existingStore(options.from, options, logger, 'read');
      const target = openStore(options.to, options, logger, 'write');
      const progress = ProgressBar.create('copy', 'events', options);
      let result;
      try {
        result = await copyEvents(source, target, (done, total) => progress.update(done, total));
      } finally {
        progress.stop();
      }
      const { read, copied, targetCount } = result;
      if (options.json)
        await writeOut(JSON.stringify({ from: source.describe().location, to: target.describe().location, read, copied, targetCount }) + '\n');
      else
        await writeOut(
          `Read ${read} event(s) from ${describeStore(source)}: copied ${copied} new, ${read - copied} already there; ` +
            `${describeStore(target)} now holds ${targetCount}.\n`,
        );
    });
}
