#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { LedgerLockedError } from '../errors/ledger-locked.error';
import { CliExit, EXIT, EXIT_CODES_HELP } from './cli-exit';
import { registerCompactCommand } from './commands/compact.command';
import { registerCopyCommand } from './commands/copy.command';
import { registerExportCommand } from './commands/export.command';
import { registerStatsCommand } from './commands/stats.command';
import { registerTailCommand } from './commands/tail.command';
import { registerVerifyCommand } from './commands/verify.command';

/** The `nestjs-ledger` command: one program, a subcommand per operation. */
export function ledgerProgram(): Command {
  const program = new Command('nestjs-ledger')
    .description('Inspect and operate a nestjs-ledger store: an NDJSON directory or a postgres:// URL.')
    .version(readVersion())
    .option('--verbose', "also print the library's informational log lines (on stderr)")
    .exitOverride()
    .showHelpAfterError('(run with --help for the usage)')
    .addHelpText('after', EXIT_CODES_HELP);
  registerStatsCommand(program);
  registerVerifyCommand(program);
  registerTailCommand(program);
  registerExportCommand(program);
  registerCompactCommand(program);
  registerCopyCommand(program);
  for (const command of program.commands) command.addHelpText('after', EXIT_CODES_HELP);
  return program;
}

/** Runs the program on `argv` and returns the exit status. */
export async function runLedgerCli(argv: string[]): Promise<number> {
  try {
    await ledgerProgram().parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help, help and --version exit 0; the usage shown because no command was given is wrong usage.
      return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (err instanceof CliExit) {
      process.stderr.write(`nestjs-ledger: ${err.message}\n`);
      return err.status;
    }
    if (err instanceof LedgerLockedError) {
      process.stderr.write(`nestjs-ledger: ${err.message}\nStop the app that writes this store first.\n`);
      return EXIT.locked;
    }
    process.stderr.write(`nestjs-ledger: ${(err as Error).message}\n`);
    return EXIT.failed;
  }
}

function readVersion(): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require('../../package.json') as { version: string }).version;
}

/**
 * A reader that closes the output pipe (`| head -1`) ends the command quietly with status 0, as
 * Unix tools do; any other failure to write stdout is a plain message and status 1.
 */
function endQuietlyWhenOutputCloses(): void {
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') process.stderr.write(`nestjs-ledger: cannot write the output: ${err.message}\n`);
    process.exit(err.code === 'EPIPE' ? EXIT.ok : EXIT.failed);
  });
}

if (require.main === module) {
  endQuietlyWhenOutputCloses();
  void runLedgerCli(process.argv).then((status) => {
    process.exitCode = status;
  });
}
