/** What the NDJSON store reads of its directory without opening it for writing: the log's size and summary, leftovers of interrupted work. */
import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { LoggerService } from '@nestjs/common';
import { describesLog, readSavedIndex } from './index-file';
import { indexLogLines } from './log-scan';
import { StoreIndex } from './log-summary';
import { isErrno } from './ndjson-log';

/** The size of `events.ndjson` on disk (0 when it does not exist). */
export async function logSizeOnDisk(eventsPath: string): Promise<number> {
  try {
    return (await stat(eventsPath)).size;
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return 0;
    throw err;
  }
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
