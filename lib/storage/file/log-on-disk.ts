/** What the NDJSON store reads of its directory without opening it for writing: the log's size and summary, leftovers of interrupted work. */
import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { LoggerService } from '@nestjs/common';
import { describesLog, readSavedIndex } from './index-file';
import { indexLogLines } from './log-scan';
import { StoreIndex } from './log-summary';
import { isErrno } from './ndjson-log';

/** The inode and size of `events.ndjson` on disk (both 0 when it does not exist). */
export async function logExtentOnDisk(eventsPath: string): Promise<{ inode: number; size: number }> {
  try {
    const info = await stat(eventsPath);
    return { inode: info.ino, size: info.size };
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return { inode: 0, size: 0 };
    throw err;
  }
}

/** The size of `events.ndjson` on disk (0 when it does not exist). */
export async function logSizeOnDisk(eventsPath: string): Promise<number> {
  return (await logExtentOnDisk(eventsPath)).size;
}

/** The size of a file, 0 when it cannot be read (e.g. `index.json` not written yet). */
export function fileSizeOrZero(path: string): Promise<number> {
  return stat(path).then(
    (s) => s.size,
    () => 0,
  );
}

/** The summary of a log this process has not opened: `index.json` when it matches the log, otherwise a scan of the log. */
export async function describeUnopenedLog(
  eventsPath: string,
  indexPath: string,
  maxEventBytes: number,
): Promise<{ index: StoreIndex; logSize: number }> {
  let info;
  try {
    info = await stat(eventsPath);
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return { index: new StoreIndex(), logSize: 0 };
    throw err;
  }
  const saved = await readSavedIndex(indexPath);
  if (saved && describesLog(saved.file, info.ino, info.size)) return { index: saved.index, logSize: info.size };
  const index = new StoreIndex();
  await indexLogLines(eventsPath, index, 0, info.size, maxEventBytes);
  return { index, logSize: info.size };
}

/**
 * Removes temp files of a rewrite that a crash interrupted (the rewrite never took effect, so they
 * are garbage), and lock candidates older than a minute of a process that died before linking its lock.
 */
export async function removeLeftoverTempFiles(storagePath: string, logger: LoggerService): Promise<void> {
  for (const name of await readdir(storagePath)) {
    const path = join(storagePath, name);
    const rewrite = name.startsWith('events.ndjson.tmp-') || name.startsWith('index.json.tmp-');
    const lockCandidate = name.startsWith('.lock.') && !name.startsWith('.lock.stale-');
    if (!rewrite && !lockCandidate) continue;
    const age =
      Date.now() -
      (await stat(path).then(
        (s) => s.mtimeMs,
        () => Date.now(),
      ));
    if (lockCandidate && age < 60_000) continue;
    await rm(path, { force: true });
    if (rewrite) logger.warn(`Removed ${name}, left by an interrupted rewrite`);
  }
}
