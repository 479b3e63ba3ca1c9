/** Exit status of `nestjs-ledger` (documented in docs/operations.md and in `--help`). */
export const EXIT = {
  /** Done (`verify`: the store is sound); also when the reader closes the output pipe (`| head`). */
  ok: 0,
  /** The command failed; the message is on stderr. */
  failed: 1,
  /** Wrong usage: no command, an unknown command or option, a missing or invalid argument. */
  usage: 2,
  /** `verify`: the store has damaged lines or rows, or its index disagrees with the log. */
  unsound: 3,
  /** The NDJSON store is locked by a running app (`compact`, `copy`): stop the app first. */
  locked: 4,
} as const;

/** Ends a command with an exit status and a message for stderr. */
export class CliExit extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export const EXIT_CODES_HELP = `
Exit status: 0 done (verify: sound; also when the reader closes the output, as | head does),
1 failed (message on stderr), 2 wrong usage, 3 verify found damage,
4 the store is locked by a running app (stop it first).`;
