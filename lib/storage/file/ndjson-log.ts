import { constants as fsConstants } from 'node:fs';
import { FileHandle, mkdir, open, stat, writeFile } from 'node:fs/promises';
import { LoggerService } from '@nestjs/common';
import { parseStoredLine } from './stored-line';

/** Writes all of `bytes` at `position` (a write may take fewer bytes than asked). */
export async function writeFully(file: FileHandle, bytes: Buffer, position: number): Promise<void> {
  for (let written = 0; written < bytes.length;) {
    const { bytesWritten } = await file.write(bytes, written, bytes.length - written, position + written);
    written += bytesWritten;
  }
}

export function isErrno(err: unknown, code: string): boolean {
  return (err as NodeJS.ErrnoException)?.code === code;
}

/**
 * `events.ndjson` held open for appends: its handle, its inode (to notice the
 * path being replaced), and the size that holds complete, synced lines.
 */
export class NdjsonLog {
  private handle: FileHandle | null = null;
  inode = 0;
  /** Bytes of the log that hold complete, synced lines. */
  size = 0;

  constructor(
    readonly path: string,
    private readonly directory: string,
    private readonly maxEventBytes: number,
    private readonly logger: LoggerService,
  ) {}

  get isOpen(): boolean {
    return this.handle !== null;
  }

  /** Opens (creating the directory and file when missing) and records inode and size. */
  async open(): Promise<void> {
    await mkdir(this.directory, { recursive: true });
    const handle = await open(this.path, fsConstants.O_RDWR | fsConstants.O_CREAT, 0o644);
    const info = await handle.stat();
    this.handle = handle;
    this.inode = info.ino;
    this.size = info.size;
  }

  async close(): Promise<void> {
    const handle = this.handle;
    this.handle = null;
    await handle?.close();
  }

  /** After an atomic rewrite renamed a new file over the path: hold that one. */
  async reopenReplaced(inode: number, size: number): Promise<void> {
    await this.handle?.close();
    this.handle = await open(this.path, fsConstants.O_RDWR);
    this.inode = inode;
    this.size = size;
  }

  /**
   * Group commit of one batch: one positioned write at the end of the log, then
   * one fdatasync. Whether the path still names this file is checked alongside
   * the write (a stat costs a thread-pool round trip). Returns false, with the
   * batch cut back out, when the path was removed or replaced meanwhile; throws,
   * with the batch cut back out, when the write fails.
   */
  async append(views: Buffer[]): Promise<boolean> {
    const handle = this.handle!;
    const moved = this.wasMoved();
    moved.catch(() => undefined); // awaited below; a failed write may leave it unawaited
    let position = this.size;
    let stale: boolean;
    try {
      for (const view of views) {
        await writeFully(handle, view, position);
        position += view.length;
      }
      stale = await moved;
      if (!stale) await handle.datasync();
    } catch (err) {
      // Cut off whatever part of the batch reached the file, so the retry writes it exactly once.
      await handle.truncate(this.size).catch(() => undefined);
      throw err;
    }
    if (stale) {
      await handle.truncate(this.size).catch(() => undefined);
      return false;
    }
    this.size = position;
    return true;
  }

  /** Whether `events.ndjson` was removed or replaced since this handle opened it. */
  async wasMoved(): Promise<boolean> {
    try {
      return (await stat(this.path)).ino !== this.inode;
    } catch (err) {
      if (isErrno(err, 'ENOENT') || isErrno(err, 'ENOTDIR')) return true;
      throw err;
    }
  }

  /**
   * A crash in the middle of a write can leave a last line without its newline.
   * A complete event is kept (its newline added); anything else is moved to a
   * side file and cut off, so the next append starts on a fresh line.
   */
  async repairTornTail(): Promise<void> {
    const handle = this.handle!;
    if (this.size === 0) return;
    const last = Buffer.alloc(1);
    await handle.read(last, 0, 1, this.size - 1);
    if (last[0] === 10) return;
    let fragmentStart = 0;
    const window = Buffer.allocUnsafe(64 * 1024);
    for (let end = this.size; end > 0 && fragmentStart === 0;) {
      const start = Math.max(0, end - window.length);
      await handle.read(window, 0, end - start, start);
      const newline = window.subarray(0, end - start).lastIndexOf(10);
      if (newline >= 0) fragmentStart = start + newline + 1;
      end = start;
    }
    const fragment = Buffer.allocUnsafe(this.size - fragmentStart);
    await handle.read(fragment, 0, fragment.length, fragmentStart);
    if (fragment.length <= this.maxEventBytes && parseStoredLine(fragment.toString('utf8'), this.maxEventBytes)) {
      await handle.write(Buffer.from('\n'), 0, 1, this.size);
      await handle.datasync();
      this.size += 1;
      this.logger.warn(`${this.path} ended without a newline after a complete event; the newline was added`);
      return;
    }
    const asidePath = `${this.path}.torn-${Date.now()}`;
    await writeFile(asidePath, fragment, { flush: true });
    await handle.truncate(fragmentStart);
    await handle.datasync();
    this.size = fragmentStart;
    this.logger.warn(`${this.path} ended with a torn line (${fragment.length} bytes, from an interrupted write); moved it to ${asidePath}`);
  }
}
