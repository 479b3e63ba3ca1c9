import { stringify } from 'csv-stringify/sync';
import { RunEvent } from '../events/run-event.interface';
import { RUN_EVENT_FIELDS } from '../events/run-event.schema';

/**
 * What a CSV cell may hold: `'neutralise'` (the default) writes a text cell that a spreadsheet
 * would run as a formula (it starts with `=`, `+`, `-`, `@`, tab or carriage return) with a
 * leading `'` and quoted, as OWASP's CSV-injection guidance says; `'raw'` writes every cell as
 * stored, for programs. Numbers are written as numbers either way (`-5` is not a formula).
 */
export type CsvFormulaPolicy = 'neutralise' | 'raw';

/** The characters that make a spreadsheet read a cell as a formula. */
const FORMULA_START = /^[=+\-@\t\r]/;

/** The CSV header: the standard fields in stored order; extra JSON fields are left out. */
export const CSV_HEADER = stringify([RUN_EVENT_FIELDS]);

/** Events as CSV rows (RFC 4180): lists and objects as their JSON, absent optional fields empty. */
export function csvRows(events: RunEvent[], policy: CsvFormulaPolicy): string {
  const rows = events.map((event) => RUN_EVENT_FIELDS.map((field) => csvCell(event[field], policy)));
  // The prefixed cells are quoted too (csv-stringify quotes the others only when they need it).
  return stringify(rows, {
    cast: { boolean: (value) => String(value) },
    quoted_match: policy === 'neutralise' ? /^'[=+\-@\t\r]/ : undefined,
  });
}

function csvCell(value: unknown, policy: CsvFormulaPolicy): string | number | boolean | null {
  if (value === undefined || value === null) return null;
  if (typeof value === 'object') return JSON.stringify(value);
  if (typeof value === 'string' && policy === 'neutralise' && FORMULA_START.test(value)) return `'${value}`;
  return value as string | number | boolean;
}
