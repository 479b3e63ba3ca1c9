import { LedgerValidationError } from './errors/ledger-validation.error';
import { RunEvent } from './interfaces/run-event.interface';

/**
 * Serialises a sanitised event to one NDJSON line (without the newline).
 *
 * @throws LedgerValidationError when the line is larger than `maxEventBytes`.
 */
export function serializeRunEvent(event: RunEvent, maxEventBytes: number): string {
  const line = JSON.stringify(event);
  // A string's UTF-8 size is at most 3 bytes per UTF-16 unit, so most lines need no exact count.
  if (line.length * 3 > maxEventBytes) {
    const bytes = Buffer.byteLength(line, 'utf8');
    if (bytes > maxEventBytes) {
      throw new LedgerValidationError('event', `serialises to ${bytes} bytes, above the per-event limit of ${maxEventBytes} bytes (maxEventBytes)`);
    }
  }
  return line;
}
