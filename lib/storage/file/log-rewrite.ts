import { open, rename, unlink } from 'node:fs/promises';
import { EncodedLineQueue } from './encoded-line.queue';
import { NdjsonLog, writeFully } from './ndjson-log';
import { StoreIndex } from './log-summary';

/** A rewrite writes its new log in pieces of about this size. */
const REWRITE_CHUNK_BYTES = 1024 * 1024;

/** Gives the rewrite its lines, in order, each with the event's timestamp. */
export type RewriteFill = (write: (line: string, timestamp: number) => Promise<void>) => Promise<void>;

async function syncDirectory(directory: string): Promise<void> {
  const dir = await open(directory, 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

/**
 * Atomically replaces the log (compaction, `writeAll`): lines go to a temporary
 * file, which is synced and renamed over `events.ndjson`; the directory is
 * synced; the log handle moves to the new file. `index` receives the new
 * log's block spans. A crash at any point leaves the complete old or the
 * complete new log; a failure leaves the old one and removes the temp file.
 */
export async function rewriteLog(log: NdjsonLog, directory: string, fill: RewriteFill, index: StoreIndex): Promise<void> {
  const tempPath = `${log.path}.tmp-${process.pid}-${Date.now()}`;
  const temp = await open(tempPath, 'w', 0o644);
  const lines = new EncodedLineQueue();
  let size = 0;
  let min = Infinity;
  let max = -Infinity;
  const writeChunk = async () => {
    const bytes = lines.byteLength;
    if (bytes === 0) return;
    let position = size;
    for (const view of lines.peek(bytes)) {
      await writeFully(temp, view, position);
      position += view.length;
    }
    lines.shift(bytes);
    index.noteSpan(size, position, min, max);
    size = position;
    min = Infinity;
    max = -Infinity;
  };
  try {
    await fill(async (line, timestamp) => {
      lines.push(line);
      if (timestamp < min) min = timestamp;
      if (timestamp > max) max = timestamp;
      if (lines.byteLength >= REWRITE_CHUNK_BYTES) await writeChunk();
    });
    await writeChunk();
    await temp.sync();
    const inode = (await temp.stat()).ino;
    await temp.close();
    await rename(tempPath, log.path);
    await syncDirectory(directory);
    await log.reopenReplaced(inode, size);
  } catch (err) {
    await temp.close().catch(() => undefined);
    await unlink(tempPath).catch(() => undefined);
    throw err;
  }
}
