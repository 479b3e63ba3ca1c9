/** Streaming COPY text into the events table, for appends and rewrites. */
import { from as copyFrom } from 'pg-copy-streams';
import { copyTextRow } from './copy-text-row';
import type { EventRow } from '../queued-event-store';
import type { PgClientLike } from './pg-pool.interface';

/** Rows encoded per write to a rewrite's COPY stream. */
const COPY_CHUNK = 5_000;

/** Streams COPY text (chunks of rows) into `eventsTable` on `client`; returns the rows copied. */
export async function copyRows(client: PgClientLike, eventsTable: string, chunks: Iterable<string | Buffer>): Promise<number> {
  const copy = (client as unknown as { query<T>(submittable: T): T }).query(
    copyFrom(`COPY ${eventsTable} (event_id, task_id, ts, event) FROM STDIN`),
  );
  const done = new Promise<void>((resolve, reject) => {
    copy.on('error', reject);
    copy.once('finish', resolve);
  });
  for (const chunk of chunks) {
    if (!copy.write(chunk)) await Promise.race([new Promise((resolve) => copy.once('drain', resolve)), done]);
  }
  copy.end();
  await done;
  return copy.rowCount;
}

/** COPY text of `rows`, in chunks of {@link COPY_CHUNK} rows, encoded as the stream asks for them. */
export function* encodeChunks(rows: Iterable<EventRow>): Iterable<string> {
  let chunk = '';
  let count = 0;
  for (const { event, line } of rows) {
    chunk += copyTextRow(event, line);
    if (++count === COPY_CHUNK) {
      yield chunk;
      chunk = '';
      count = 0;
    }
  }
  if (chunk) yield chunk;
}
