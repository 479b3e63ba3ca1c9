import { RunEvent } from '../events/run-event.interface';
import { RUN_EVENT_FIELDS } from '../events/run-event.schema';

/** The CSV header: the standard fields in stored order; extra JSON fields are left out. */
export const CSV_HEADER = RUN_EVENT_FIELDS.join(',') + '\n';

/** One event as a CSV row (RFC 4180): lists and objects as their JSON, absent optional fields empty. */
export function csvRow(event: RunEvent): string {
  return RUN_EVENT_FIELDS.map((field) => csvField(event[field])).join(',') + '\n';
}

function csvField(value: unknown): string {
  if (value === undefined || value === null) return '';
  const text = typeof value === 'object' ? JSON.stringify(value) : String(value);
  return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}
