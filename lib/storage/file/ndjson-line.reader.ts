import { open } from 'node:fs/promises';

const CHUNK_BYTES = 1024 * 1024;

/**
 * Stands in for a line longer than the reader's limit: it is not JSON, so the
 * caller counts it as corrupt like any other unparseable line.
 */
export const OVERLONG_LINE = '\u0000overlong line';

/** A run of complete lines and the byte range of the file they came from. */
export interface LineChunk {
  lines: string[];
  /** Offset of the first line's first byte. */
  start: number;
  /** Offset just past the last line's newline. */
  end: number;
}

/**
 * Reads complete lines of `path` between byte offsets `start` and `end` (a line
 * boundary), chunk by chunk; memory stays within one chunk plus the longest line
 * (capped at `maxLineBytes`). Yields the lines without their newline.
 * Bytes after the last newline before `end` are not yielded.
 */
export async function* readNdjsonLines(path: string, start: number, end: number, maxLineBytes: number): AsyncGenerator<LineChunk> {
  if (end <= start) return;
  const file = await open(path, 'r');
  try {
    let buffer = Buffer.allocUnsafe(Math.min(CHUNK_BYTES, Math.max(end - start, 1)));
    let filled = 0;
    let position = start;
    let overlong = false;
    let chunkStart = start;
    while (position < end) {
      if (filled === buffer.length) {
        if (buffer.length < maxLineBytes + 1) {
          const grown = Buffer.allocUnsafe(Math.min(buffer.length * 2, maxLineBytes + 1));
          buffer.copy(grown, 0, 0, filled);
          buffer = grown;
        } else {
          overlong = true;
          filled = 0;
        }
      }
      const { bytesRead } = await file.read(buffer, filled, Math.min(buffer.length - filled, end - position), position);
      if (bytesRead === 0) break;
      position += bytesRead;
      const dataEnd = filled + bytesRead;
      const lastNewline = buffer.lastIndexOf(10, dataEnd - 1);
      if (lastNewline < 0) {
        filled = dataEnd;
        continue;
      }
      const lines = buffer.toString('utf8', 0, lastNewline).split('\n');
      if (overlong) {
        lines[0] = OVERLONG_LINE;
        overlong = false;
      }
      const chunkEnd = position - (dataEnd - lastNewline - 1);
      yield { lines, start: chunkStart, end: chunkEnd };
      chunkStart = chunkEnd;
      buffer.copy(buffer, 0, lastNewline + 1, dataEnd);
      filled = dataEnd - lastNewline - 1;
    }
  } finally {
    await file.close();
  }
}
