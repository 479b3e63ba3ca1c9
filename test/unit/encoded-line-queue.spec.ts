/**
 * The queue of encoded lines a file store writes from: bytes come out in the
 * order lines went in, across buffer boundaries, for any mix of sizes.
 */
import fc from 'fast-check';
import { EncodedLineQueue } from '../../lib/storage/file/encoded-line.queue';

const MiB = 1024 * 1024;

function drain(queue: EncodedLineQueue, bytes: number): string {
  const text = Buffer.concat(queue.peek(bytes)).toString('utf8');
  queue.shift(bytes);
  return text;
}

describe('EncodedLineQueue', () => {
  it('gives back each line with its newline, UTF-8 encoded, and counts its bytes', () => {
    const queue = new EncodedLineQueue();
    const lines = ['{"a":1}', '{"é":"😀"}', ''];
    const sizes = lines.map((line) => queue.push(line));
    expect(sizes).toEqual(lines.map((line) => Buffer.byteLength(line) + 1));
    expect(queue.byteLength).toBe(sizes[0] + sizes[1] + sizes[2]);
    expect(drain(queue, sizes[0])).toBe('{"a":1}\n');
    expect(drain(queue, sizes[1] + sizes[2])).toBe('{"é":"😀"}\n\n');
    expect(queue.byteLength).toBe(0);
  });

  it('spans several buffers and takes a line larger than a buffer whole', () => {
    const queue = new EncodedLineQueue();
    const line = 'x'.repeat(300 * 1024);
    const huge = 'y'.repeat(3 * MiB);
    const pushed = [line, line, line, line, huge, line];
    const sizes = pushed.map((l) => queue.push(l));
    const views = queue.peek(queue.byteLength);
    expect(views.length).toBeGreaterThan(2);
    expect(Buffer.concat(views).toString('utf8')).toBe(pushed.map((l) => `${l}\n`).join(''));
    // Take out lines one by one: each comes back as it went in.
    for (let i = 0; i < pushed.length; i++) expect(drain(queue, sizes[i])).toBe(`${pushed[i]}\n`);
    expect(queue.byteLength).toBe(0);
    expect(queue.peek(0)).toEqual([]);
  });

  it('keeps FIFO order for any interleaving of pushes and partial takes', () => {
    const line = fc.oneof(
      fc.string({ unit: 'grapheme', maxLength: 40 }),
      fc.integer({ min: 100_000, max: 400_000 }).map((n) => 'é'.repeat(n)),
    );
    const step = fc.oneof(fc.record({ push: line }), fc.record({ take: fc.nat({ max: 5 }) }));
    fc.assert(
      fc.property(fc.array(step, { maxLength: 40 }), (steps) => {
        const queue = new EncodedLineQueue();
        const waiting: { line: string; bytes: number }[] = [];
        for (const s of steps) {
          if ('push' in s) {
            waiting.push({ line: s.push, bytes: queue.push(s.push) });
          } else {
            const taken = waiting.splice(0, s.take);
            const bytes = taken.reduce((sum, t) => sum + t.bytes, 0);
            expect(drain(queue, bytes)).toBe(taken.map((t) => `${t.line}\n`).join(''));
          }
        }
        expect(queue.byteLength).toBe(waiting.reduce((sum, t) => sum + t.bytes, 0));
        expect(drain(queue, queue.byteLength)).toBe(waiting.map((t) => `${t.line}\n`).join(''));
      }),
      { numRuns: 100 },
    );
  });
});
