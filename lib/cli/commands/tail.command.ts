import { Command } from 'commander';
import { RunEvent } from '../../events/run-event.interface';
import { StoreCommandOptions, cliLogger, nonNegativeIntegerOption, storeCommand, writeOut } from '../cli-command-options';
import { existingStore } from '../cli-store';
import { displayTime } from '../display-format';

interface TailCommandOptions extends StoreCommandOptions {
  follow?: boolean;
  task?: string;
  lines: number;
}

/** `nestjs-ledger tail [-f] [--task ID] <store>`: the last events, then (with -f) each event as it is stored. */
export function registerTailCommand(program: Command): void {
  storeCommand(
    program,
    'tail',
    'Print the last stored events; with -f, keep printing events as they are stored.',
    "Follows the store's feed (every replica's commits on PostgreSQL; the file as the app appends\n" +
      'on NDJSON) without taking the lock. One line per event: time, task, id and a summary, or the\n' +
      'event as JSON with --json. Ctrl-C ends -f.',
    false,
  )
    .option('-f, --follow', 'keep printing events as they are stored')
    .option('--task <id>', 'only the events of this task')
    .option('-n, --lines <count>', 'how many stored events to print first (0 with -f: only new events)', nonNegativeIntegerOption, 10)
    .action(async (target: string, options: TailCommandOptions, command: Command) => {
      const store = await existingStore(target, options, cliLogger(command), 'read');
      const stop = new AbortController();
      const onSignal = () => stop.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      const print = (events: RunEvent[]) => writeOut(events.map((e) => (options.json ? JSON.stringify(e) + '\n' : summary(e))).join(''));
      try {
        // The stored events first, keeping only the last ones; then live.
        let last: RunEvent[] = [];
        let live = false;
        for await (const batch of store.tail({ after: null, signal: stop.signal })) {
          const events = options.task === undefined ? batch.events : batch.events.filter((e) => e.taskId === options.task);
          if (live) {
            if (events.length > 0) await print(events);
          } else {
            last = options.lines === 0 ? [] : last.concat(events).slice(-options.lines);
            if (batch.caughtUp) {
              await print(last);
              last = [];
              if (!options.follow) break;
              live = true;
            }
          }
        }
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        await store.close();
      }
    });
}

/** One line per event for people: time, task, id, tests, violations, outcome. */
export function summary(event: RunEvent): string {
  const tests = event.testResults.ran ? `tests ${event.testResults.passed} passed ${event.testResults.failed} failed` : 'tests not run';
  const outcome = event.outcomeAccepted === null ? 'outcome pending' : event.outcomeAccepted ? 'accepted' : 'rejected';
  return `${displayTime(event.timestamp)}  ${event.taskId}  ${event.eventId}  ${tests}, ${event.violations.length} violation(s), ${outcome}\n`;
}
