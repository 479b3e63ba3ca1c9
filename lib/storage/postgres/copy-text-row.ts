/** One event as a row of COPY text. */
import { RunEvent } from '../../events/run-event.interface';

const COPY_SPECIAL = /[\\\n\r\t]/;
const COPY_SPECIAL_ALL = /[\\\n\r\t]/g;
const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** A value as a field of COPY's text format (backslash, newline, carriage return and tab escaped). */
function copyField(value: string): string {
  return COPY_SPECIAL.test(value) ? value.replace(COPY_SPECIAL_ALL, (c) => COPY_ESCAPES[c]) : value;
}

/**
 * One row of `COPY <events> (event_id, task_id, ts, event) FROM STDIN` in the
 * text format, newline included. `line` is the event's JSON, which has no raw
 * control characters, so only its backslashes need doubling.
 */
export function copyTextRow(event: RunEvent, line: string): string {
  const json = line.includes('\\') ? line.replaceAll('\\', '\\\\') : line;
  return `${copyField(event.eventId)}\t${copyField(event.taskId)}\t${event.timestamp}\t${json}\n`;
}
