import { Command } from 'commander';
import { DamagedRecord, StoreVerification } from '../../storage/store-verification.interface';
import { EXIT } from '../cli-exit';
import { StoreCommandOptions, cliLogger, storeCommand, writeOut } from '../cli-command-options';
import { ProgressBar } from '../cli-progress-bar';
import { describeStore, existingStore } from '../cli-store';

/** `nestjs-ledger verify <store>`: reads every line or row; the exit status says whether the store is sound. */
export function registerVerifyCommand(program: Command): void {
  storeCommand(
    program,
    'verify',
    'Read every stored line or row and check the index against the log; exit 3 if the store is damaged.',
    'Reports each damaged line with its line number and byte offset (PostgreSQL: its position and\n' +
      'event_id) and why it is not a valid event. Takes no lock and changes nothing.',
    true,
  ).action(async (target: string, options: StoreCommandOptions, command: Command) => {
    const store = await existingStore(target, options, cliLogger(command), 'read');
    const progress = ProgressBar.create('verify', store.sharedByReplicas ? 'rows' : 'bytes', options);
    let report: StoreVerification;
    try {
      report = await store.verify((done, total) => progress.update(done, total));
    } finally {
      progress.stop();
      await store.close();
    }
    if (options.json) await writeOut(JSON.stringify({ store: store.describe().location, ...report }) + '\n');
    else await writeOut(formatReport(describeStore(store), report));
    if (!report.sound) process.exitCode = EXIT.unsound;
  });
}

function formatReport(store: string, report: StoreVerification): string {
  const where = (d: DamagedRecord) =>
    d.line !== undefined ? `line ${d.line} (byte ${d.byteOffset})` : `position ${d.position} (event_id ${d.eventId})`;
  const lines = [`${store}: read ${report.records} record(s), ${report.events} valid event(s), ${report.damagedCount} damaged`];
  for (const damaged of report.damaged) lines.push(`  damaged: ${where(damaged)}: ${damaged.reason}`);
  if (report.damagedCount > report.damaged.length) lines.push(`  ... and ${report.damagedCount - report.damaged.length} more`);
  for (const problem of report.indexProblems) lines.push(`  index: ${problem}`);
  for (const note of report.notes) lines.push(`  note: ${note}`);
  lines.push(report.sound ? 'The store is sound.' : 'The store is damaged (exit status 3).');
  return lines.join('\n') + '\n';
}
