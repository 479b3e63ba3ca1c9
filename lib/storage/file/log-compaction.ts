import { FileHandle, open } from 'node:fs/promises';
import { LoggerService } from '@nestjs/common';
import { planRetention, retentionFilter } from '../retention-plan';
import { scanLogTimestamps } from './log-scan';
import { rewriteLog } from './log-rewrite';
import { readNdjsonLines } from './ndjson-line.reader';
import { NdjsonLog } from './ndjson-log';
import { StoreIndex } from './log-summary';
import { isBlankLine } from './stored-line';
import { ProgressListener } from '../store-verification.interface';

/**
 * Two-pass compaction of the log, in bounded memory: pass one reads every
 * line's timestamp and task (12 bytes a line) and plans what to keep; pass two
 * copies the kept lines, unchanged, into an atomic rewrite, and moves lines
 * that are not valid events to `events.ndjson.corrupt` (synced before the new
 * log replaces the old one). Returns the evicted count and the new log's
 * index, or null when nothing needs evicting.
 */
export async function compactLog(
  log: NdjsonLog,
  directory: string,
  maxEvents: number,
  lineCountHint: number,
  maxEventBytes: number,
  logger: LoggerService,
  onProgress?: ProgressListener,
): Promise<{ evicted: number; index: StoreIndex } | null> {
  // Progress in bytes over both passes.
  const total = log.size * 2;
  const { timestamps, taskCodes, taskNames } = await scanLogTimestamps(log.path, log.size, lineCountHint, maxEventBytes, (done) =>
    onProgress?.(done, total),
  );
  const plan = planRetention(timestamps, maxEvents);
  if (!plan) return null;
  const keep = retentionFilter(plan);
  const index = new StoreIndex();
  const quarantinePath = `${log.path}.corrupt`;
  let quarantine: FileHandle | null = null;
  let corrupt = 0;
  let lineNo = 0;
  await rewriteLog(
    log,
    directory,
    async (write) => {
      try {
        for await (const { lines, end } of readNdjsonLines(log.path, 0, log.size, maxEventBytes * 2)) {
          onProgress?.(total / 2 + end, total);
          for (const line of lines) {
            if (isBlankLine(line)) continue;
            const ts = timestamps[lineNo];
            const task = taskNames[taskCodes[lineNo]];
            lineNo++;
            if (Number.isNaN(ts)) {
              quarantine ??= await open(quarantinePath, 'a');
              await quarantine.write(line + '\n');
              corrupt++;
            } else if (keep(ts)) {
              await write(line, ts);
              index.add(ts, task);
            }
          }
        }
        await quarantine?.sync();
      } finally {
        await quarantine?.close();
      }
    },
    index,
  );
  if (corrupt > 0) logger.warn(`Compaction moved ${corrupt} unreadable line(s) of ${log.path} to ${quarantinePath}`);
  return { evicted: plan.evicted, index };
}
