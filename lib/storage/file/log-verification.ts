import { stat } from 'node:fs/promises';
import { whyNotAnEvent } from '../../events/why-not-an-event';
import { DamagedRecord, MAX_DAMAGED_LISTED, ProgressListener, StoreVerification } from '../store-verification.interface';
import { describesLog, readSavedIndex } from './index-file';
import { OVERLONG_LINE, readNdjsonLines } from './ndjson-line.reader';
import { StoreIndex } from './log-summary';
import { isBlankLine, parseStoredLine } from './stored-line';

/**
 * Reads every line of `events.ndjson` and checks `index.json` against it: damaged lines with
 * their line numbers and byte offsets; where an index that claims to describe this log disagrees
 * with it (counts, span, or a block whose time span misses one of its events). Takes no lock and
 * changes nothing. A missing or stale index is a note: the next open rebuilds it.
 */
export async function verifyLog(
  logPath: string,
  indexPath: string,
  maxEventBytes: number,
  onProgress?: ProgressListener,
): Promise<StoreVerification> {
  const { size, ino } = await stat(logPath);
  const saved = await readSavedIndex(indexPath);
  const claims = saved !== null && describesLog(saved.file, ino, size);
  const scanned = new StoreIndex();
  const damaged: DamagedRecord[] = [];
  let damagedCount = 0;
  let records = 0;
  let lineNo = 0;
  let blockMisses = 0;
  let block = 0;
  const blocks = claims ? saved.index.blocks : [];
  const note = (record: DamagedRecord) => {
    damagedCount++;
    if (damaged.length < MAX_DAMAGED_LISTED) damaged.push(record);
  };
  let end = 0;
  for await (const chunk of readNdjsonLines(logPath, 0, size, maxEventBytes * 2)) {
    let offset = chunk.start;
    for (const line of chunk.lines) {
      lineNo++;
      const lineOffset = offset;
      offset += Buffer.byteLength(line) + 1;
      if (isBlankLine(line)) continue;
      records++;
      const event = line === OVERLONG_LINE ? null : parseStoredLine(line, maxEventBytes);
      if (!event) {
        scanned.corruptLines++;
        note({
          line: lineNo,
          byteOffset: lineOffset,
          reason: line === OVERLONG_LINE ? `longer than the line limit (${maxEventBytes * 2} bytes)` : whyNotAnEvent(line, maxEventBytes),
        });
        continue;
      }
      scanned.addEvent(event);
      while (block + 3 < blocks.length && blocks[block + 3] <= lineOffset) block += 3;
      if (blocks.length > 0 && (event.timestamp < blocks[block + 1] || event.timestamp > blocks[block + 2])) blockMisses++;
    }
    end = chunk.end;
    onProgress?.(end, size);
  }
  if (end < size)
    note({
      line: lineNo + 1,
      byteOffset: end,
      reason: `incomplete last line (${size - end} bytes without a newline: an interrupted write; the next open cuts it off)`,
    });
  onProgress?.(size, size);

  const indexProblems: string[] = [];
  const notes: string[] = [];
  if (!saved) notes.push('index.json is missing or unreadable: the next open rebuilds it');
  else if (!claims)
    notes.push(`index.json describes another state of the log (${saved.file.logSizeBytes ?? '?'} bytes, now ${size}): the next open rebuilds it`);
  else {
    const expect = (what: string, indexed: unknown, actual: unknown) => {
      if (indexed !== actual) indexProblems.push(`index.json says ${what} ${String(indexed)}, the log has ${String(actual)}`);
    };
    expect('eventCount', saved.index.eventCount, scanned.eventCount);
    expect('corruptLines', saved.index.corruptLines, scanned.corruptLines);
    expect('oldestTimestamp', saved.index.oldestTimestamp, scanned.oldestTimestamp);
    expect('newestTimestamp', saved.index.newestTimestamp, scanned.newestTimestamp);
    expect('the number of task ids', saved.index.taskIds.size, scanned.taskIds.size);
    if (blockMisses > 0)
      indexProblems.push(`${blockMisses} event(s) lie outside the time span index.json gives their block: range reads would miss them`);
  }
  return {
    sound: damagedCount === 0 && indexProblems.length === 0,
    records,
    events: scanned.eventCount,
    damaged,
    damagedCount,
    indexProblems,
    notes,
  };
}
