import { stat } from 'node:fs/promises';
import { Command } from 'commander';
import { FileEventStore } from '../../storage/file/file-event.store';
import { describesLog, readSavedIndex } from '../../storage/file/index-file';
import { StorageStats } from '../../storage/storage-stats.interface';
import { StoreCommandOptions, cliLogger, storeCommand, writeOut } from '../cli-command-options';
import { describeStore, existingStore } from '../cli-store';
import { displayBytes, displayTime } from '../display-format';

/** `nestjs-ledger stats <store>`: counts, span, size, corrupt lines, index health. */
export function registerStatsCommand(program: Command): void {
  storeCommand(
    program,
    'stats',
    'Print what a store holds: event count, time span, size, corrupt lines, index health.',
    'Reads without taking the lock, so it may run beside the app that writes the store.',
    false,
  ).action(async (target: string, options: StoreCommandOptions, command: Command) => {
    const store = await existingStore(target, options, cliLogger(command), 'read');
    try {
      const stats = await store.getStats();
      const index = store instanceof FileEventStore ? await indexHealth(store) : null;
      const location = store.describe().location;
      if (options.json) await writeOut(JSON.stringify({ store: location, ...stats, index }) + '\n');
      else await writeOut(formatStats(describeStore(store), stats, index));
    } finally {
      await store.close();
    }
  });
}

/** Whether `index.json` describes the log as it is now. */
async function indexHealth(
  store: FileEventStore,
): Promise<'matches the log' | 'stale (rebuilt on the next open)' | 'missing (rebuilt on the next open)'> {
  const saved = await readSavedIndex(store.indexPath);
  if (!saved) return 'missing (rebuilt on the next open)';
  const { size, ino } = await stat(store.eventsPath);
  return describesLog(saved.file, ino, size) ? 'matches the log' : 'stale (rebuilt on the next open)';
}

function formatStats(store: string, stats: StorageStats, index: string | null): string {
  const time = (t: number | null) => (t === null ? '-' : displayTime(t));
  const rows: [string, string][] = [
    ['store', store],
    ['events', stats.eventCount.toLocaleString('en-US')],
    ['span', stats.oldestEvent === null ? 'empty' : `${time(stats.oldestEvent)} .. ${time(stats.newestEvent)}`],
    ['size', displayBytes(stats.storageSizeBytes)],
    ['corrupt lines', String(stats.corruptLines)],
    ['refused events', String(stats.refusedEvents)],
  ];
  if (index !== null) rows.push(['index', index]);
  return rows.map(([k, v]) => `${k.padEnd(15)}${v}\n`).join('');
}
