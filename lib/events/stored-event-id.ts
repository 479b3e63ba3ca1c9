import { createHash } from 'node:crypto';

/**
 * The id of a stored event that has none (written by another tool or by hand):
 * derived from the line, so that every read gives the same event the same id.
 */
export function idOfStoredLine(line: string): string {
  const hex = createHash('sha256').update(line).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
