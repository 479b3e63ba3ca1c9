/** One line of `events.ndjson` read back: parsed and validated as an event, or skipped. */
import { RunEvent } from '../../events/run-event.interface';
import { restoreStoredEvent } from '../../events/run-event.validator';
import { idOfStoredLine } from '../../events/stored-event-id';

/**
 * Parses one stored line and validates it as `logEvent` validates its input
 * (missing standard fields get their defaults). Returns null for a line that
 * is not JSON or not a valid event: such lines are skipped and counted as corrupt.
 */
export function parseStoredLine(line: string, maxEventBytes: number): RunEvent | null {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return null;
  }
  return restoreStoredEvent(value, maxEventBytes, () => idOfStoredLine(line));
}

/** Whether a line is empty or only whitespace (skipped silently, as the original did). */
export function isBlankLine(line: string): boolean {
  return line.length === 0 || (line.length < 4 && line.trim().length === 0);
}
