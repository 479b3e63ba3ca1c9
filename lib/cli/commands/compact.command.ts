import { Command } from 'commander';
import { StoreCommandOptions, cliLogger, positiveIntegerOption, storeCommand, writeOut } from '../cli-command-options';
import { ProgressBar } from '../cli-progress-bar';
import { describeStore, existingStore } from '../cli-store';

interface CompactCommandOptions extends StoreCommandOptions {
  maxEvents: number;
}

/** `nestjs-ledger compact --max-events N <store>`: offline retention compaction. */
export function registerCompactCommand(program: Command): void {
  storeCommand(
    program,
    'compact',
    'Keep the newest --max-events events of a store (by timestamp) and evict the rest.',
    "NDJSON: takes the store's lock, so it refuses (exit 4) while an app writes the store; stop the\n" +
      'app first. PostgreSQL: safe beside running replicas (they rebuild their memory from the feed);\n' +
      'it is skipped when a replica compacted within the compaction lease.',
    true,
  )
    .requiredOption('--max-events <count>', 'how many events to keep', positiveIntegerOption)
    .action(async (target: string, options: CompactCommandOptions, command: Command) => {
      const progress = ProgressBar.create('compact', 'bytes', options);
      const store = await existingStore(target, options, cliLogger(command), 'write', (done, total) => progress.update(done, total));
      try {
        const evicted = await store.compact(options.maxEvents).finally(() => progress.stop());
        const { eventCount } = await store.getStats();
        if (options.json) await writeOut(JSON.stringify({ store: store.describe().location, evicted, eventCount }) + '\n');
        else await writeOut(`${describeStore(store)}: evicted ${evicted} event(s); ${eventCount} kept.\n`);
      } finally {
        await store.close();
      }
    });
}
