import { Command, InvalidArgumentError } from 'commander';
import { CliLogger } from './cli-logger';
import { StoreLocation } from './cli-store';
import { ProgressChoice } from './cli-progress-bar';

/** The options every command that reads a store takes. */
export interface StoreCommandOptions extends StoreLocation, ProgressChoice {
  json?: boolean;
}

/** Adds `<store>`, `--schema`, `--table`, `--json` and, for long operations, `--progress`/`--no-progress`. */
export function storeCommand(program: Command, name: string, summary: string, details: string, longRunning: boolean): Command {
  const command = program
    .command(name)
    .summary(summary)
    .description(`${summary}\n\n${details}`)
    .argument('<store>', "the NDJSON store directory (the app's storagePath) or a postgres:// connection string")
    .option('--schema <name>', 'PostgreSQL schema of the ledger tables (default: public)')
    .option('--table <name>', 'PostgreSQL events table (default: ledger_events)')
    .option('--json', 'print the result as JSON, for scripts');
  if (longRunning) {
    command.option('--progress', 'draw the progress bar even when stderr is not a terminal').option('--no-progress', 'never draw the progress bar');
  }
  return command;
}

/** The logger of a command: plain lines on stderr, informational ones with --verbose. */
export function cliLogger(command: Command): CliLogger {
  return new CliLogger(command.optsWithGlobals<{ verbose?: boolean }>().verbose === true);
}

/** Parses a positive integer option. */
export function positiveIntegerOption(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

/** Parses a count that may be 0 (e.g. `tail -n 0`: no stored event). */
export function nonNegativeIntegerOption(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n)) throw new InvalidArgumentError('must be a non-negative integer');
  return n;
}

/** Parses a time bound: epoch milliseconds or an ISO 8601 date. */
export function timeOption(value: string): number {
  const n = /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : Date.parse(value);
  if (!Number.isFinite(n)) throw new InvalidArgumentError('must be epoch milliseconds or an ISO 8601 date, e.g. 2026-11-26T00:00:00Z');
  return n;
}

/** Writes to stdout, resolving once the data is handed to the stream (waits when it is full). */
export function writeOut(text: string): Promise<void> | void {
  if (process.stdout.write(text)) return;
  return new Promise((resolve) => process.stdout.once('drain', resolve));
}
