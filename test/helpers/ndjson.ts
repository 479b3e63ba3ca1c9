import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RunEvent } from '../../lib';

/** The events in a store directory's events.ndjson, parsed independently of the library. */
export function eventsOnDisk(dir: string): RunEvent[] {
  const path = join(dir, 'events.ndjson');
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as RunEvent);
}

/**
 * Appends events to a store directory's events.ndjson as JSON lines, as another writer (or an older
 * version) might have left them: nothing validates them on the way in.
 */
export function appendEventLines(dir: string, events: unknown[]): void {
  appendFileSync(join(dir, 'events.ndjson'), events.map((event) => `${JSON.stringify(event)}\n`).join(''));
}
