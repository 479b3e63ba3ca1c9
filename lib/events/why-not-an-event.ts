import { LedgerValidationError } from '../errors/ledger-validation.error';
import { sanitizeRunEvent } from './run-event.validator';

/**
 * Why a stored line is not a valid event, in words. A stored event may lack its `eventId` (the
 * store derives one), so that alone is not reported.
 */
export function whyNotAnEvent(line: string, maxEventBytes: number): string {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (err) {
    return `not JSON (${(err as Error).message})`;
  }
  const withId =
    value !== null && typeof value === 'object' && !Array.isArray(value) && !('eventId' in value) ? { ...value, eventId: 'stored' } : value;
  try {
    sanitizeRunEvent(withId, maxEventBytes);
  } catch (err) {
    if (err instanceof LedgerValidationError) return err.message;
    throw err;
  }
  return 'not a valid run event';
}
