/** Size of the buffers lines are encoded into; a line larger than this gets a buffer of its own. */
const CHUNK_BYTES = 1024 * 1024;

interface Chunk {
  buffer: Buffer;
  /** Bytes of `buffer` holding lines. */
  used: number;
}

/**
 * NDJSON lines waiting to be written, UTF-8 encoded (with their newline) into
 * a chain of 1 MiB buffers, first in, first out.
 *
 * Keeping queued lines as bytes rather than strings matters for throughput:
 * the encoded form lives outside the JavaScript heap, so the garbage collector
 * neither scans nor copies it while a batch waits for its write, and the line
 * strings die young.
 */
export class EncodedLineQueue {
  private chunks: Chunk[] = [];
  /** Offset of the first queued byte in `chunks[0]`. */
  private head = 0;
  private queued = 0;

  /** Bytes queued. */
  get byteLength(): number {
    return this.queued;
  }

  /** Encodes `line` and a newline at the end of the queue; returns the bytes added. */
  push(line: string): number {
    // At most 3 UTF-8 bytes per UTF-16 unit, plus the newline.
    const room = line.length * 3 + 1;
    let tail = this.chunks[this.chunks.length - 1];
    if (!tail || tail.used + room > tail.buffer.length) {
      tail = { buffer: Buffer.allocUnsafe(Math.max(CHUNK_BYTES, room)), used: 0 };
      this.chunks.push(tail);
    }
    const start = tail.used;
    tail.used += tail.buffer.write(line, start, 'utf8');
    tail.buffer[tail.used++] = 0x0a;
    const bytes = tail.used - start;
    this.queued += bytes;
    return bytes;
  }

  /** The first `bytes` queued bytes, as views of the queue's buffers (no copy); valid until they are shifted out. */
  peek(bytes: number): Buffer[] {
    const views: Buffer[] = [];
    let offset = this.head;
    for (let i = 0; bytes > 0; i++) {
      const chunk = this.chunks[i];
      const end = Math.min(chunk.used, offset + bytes);
      views.push(chunk.buffer.subarray(offset, end));
      bytes -= end - offset;
      offset = 0;
    }
    return views;
  }

  /** Drops the first `bytes` queued bytes. */
  shift(bytes: number): void {
    this.queued -= bytes;
    while (bytes > 0) {
      const chunk = this.chunks[0];
      const take = Math.min(chunk.used - this.head, bytes);
      this.head += take;
      bytes -= take;
      if (this.head === chunk.used) {
        this.head = 0;
        if (this.chunks.length > 1 || chunk.buffer.length > CHUNK_BYTES) this.chunks.shift();
        else chunk.used = 0;
      }
    }
  }
}
