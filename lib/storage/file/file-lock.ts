import { randomUUID } from 'node:crypto';
import { statSync } from 'node:fs';
import { FileHandle, link, open, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { LoggerService } from '@nestjs/common';
import { LedgerLockLostError } from '../../errors/ledger-lock-lost.error';
import { LedgerLockedError } from '../../errors/ledger-locked.error';
import { LEDGER_DEFAULTS } from '../../options/ledger-defaults';

/**
 * Default time after which a lock that is not refreshed counts as abandoned.
 * @deprecated Use `LEDGER_DEFAULTS.lockStaleMs` (every default is there).
 */
export const DEFAULT_LOCK_STALE_MS = LEDGER_DEFAULTS.lockStaleMs;

interface LockRecord {
  holder?: string;
  pid?: number;
  hostname?: string;
  timestamp?: number;
}

function isErrno(err: unknown, code: string): boolean {
  return (err as NodeJS.ErrnoException)?.code === code;
}

function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return !isErrno(err, 'ESRCH');
  }
}

/**
 * An exclusive lock file. Created atomically with its content (write a temp
 * file, then link it as the lock: two processes can never both create it), records the holder's pid and host, and is refreshed (its mtime
 * touched through the open handle) every `staleMs / 3` while held. Another
 * process takes it over only when the holder's process is gone (same host) or
 * the lock has not been refreshed for `staleMs`.
 */
export class FileLock {
  private handle: FileHandle | null = null;
  private refreshTimer: NodeJS.Timeout | null = null;
  /** Set when a refresh or a check found the lock removed or replaced, or could not touch it; cleared once it is held again. */
  lost = false;
  /** The lock file this instance created (its inode and device), while it holds one. */
  private identity: { ino: number; dev: number } | null = null;
  /** While {@link lost}: the live process that holds the lock file instead, when a retake found one. */
  takenBy: LedgerLockLostError | null = null;

  /**
   * @param onLost called by a refresh that finds the lock lost (the store then retakes it in step with its writer).
   */
  constructor(
    private readonly lockPath: string,
    private readonly staleMs: number,
    private readonly logger: LoggerService,
    private readonly onLost: () => void = () => undefined,
  ) {}

  get held(): boolean {
    return this.handle !== null;
  }

  /** @throws LedgerLockedError while a live holder has the lock. */
  async acquire(): Promise<void> {
    if (this.handle) return;
    for (let attempt = 0; attempt < 10; attempt++) {
      if (await this.tryCreate()) {
        this.lost = false;
        this.takenBy = null;
        this.startRefreshing();
        return;
      }
      await this.removeIfStale();
    }
    throw new LedgerLockedError(this.lockPath, null, null);
  }

  /**
   * Creates the lock file with its content in one atomic step: the record is
   * written to a private temp file, which is then hard-linked as the lock
   * (link fails with EEXIST if a lock exists), so nobody ever sees an empty lock.
   */
  private async tryCreate(): Promise<boolean> {
    const record: LockRecord = { holder: randomUUID(), pid: process.pid, hostname: hostname(), timestamp: Date.now() };
    const tempPath = `${this.lockPath}.${record.holder}`;
    await writeFile(tempPath, JSON.stringify(record), { flush: true });
    try {
      await link(tempPath, this.lockPath);
    } catch (err) {
      if (isErrno(err, 'EEXIST')) return false;
      throw err;
    } finally {
      await unlink(tempPath).catch(() => undefined);
    }
    this.handle = await open(this.lockPath, 'r+');
    const { ino, dev } = await this.handle.stat();
    this.identity = { ino, dev };
    return true;
  }

  /** Removes the lock if this instance holds it (and the file is still its own). */
  async release(): Promise<void> {
    if (this.refreshTimer) clearInterval(this.refreshTimer);
    this.refreshTimer = null;
    const handle = this.handle;
    if (!handle) return;
    this.handle = null;
    try {
      if (await this.isStillOurs(handle)) await unlink(this.lockPath);
    } finally {
      await handle.close();
    }
  }

  private async isStillOurs(handle: FileHandle): Promise<boolean> {
    try {
      const [mine, current] = await Promise.all([handle.stat(), stat(this.lockPath)]);
      return mine.ino === current.ino && mine.dev === current.dev;
    } catch {
      return false;
    }
  }

  /** Whether the lock file is still the one this instance created (checked now, on disk). */
  async isHeld(): Promise<boolean> {
    // The writer asks before every batch: one stat of the path against the file this instance
    // created, synchronous (a couple of microseconds) so that it adds no trip through the thread pool.
    const identity = this.identity;
    const current = this.handle !== null && identity !== null ? statSync(this.lockPath, { throwIfNoEntry: false }) : undefined;
    const held = current !== undefined && current.ino === identity!.ino && current.dev === identity!.dev;
    if (!held) this.lost = true;
    return held;
  }

  /**
   * Forgets a lock that is no longer this instance's (removed or replaced), without touching the
   * file; refreshes go on and report the loss until {@link acquire} takes the lock again.
   */
  async letGo(): Promise<void> {
    const handle = this.handle;
    this.handle = null;
    this.lost = true;
    await handle?.close().catch(() => undefined);
  }

  /**
   * A store that lost this lock found another live holder when it tried to take it again: writes
   * are refused (with the returned error) until it is free.
   */
  takenByOther(err: LedgerLockedError): LedgerLockLostError {
    if (this.takenBy === null) this.logger.error(`Ledger lock ${this.lockPath} is held by another process; writes are refused until it is free`);
    this.lost = true;
    this.takenBy = new LedgerLockLostError(this.lockPath, err.holderPid, err.holderHost);
    return this.takenBy;
  }

  private startRefreshing(): void {
    if (this.refreshTimer) return;
    this.refreshTimer = setInterval(() => void this.refresh(), Math.max(10, Math.floor(this.staleMs / 3)));
    this.refreshTimer.unref();
  }

  private async refresh(): Promise<void> {
    const handle = this.handle;
    if (!handle) {
      // Lost, and not taken again yet: ask again.
      if (this.lost) this.onLost();
      return;
    }
    try {
      const now = new Date();
      await handle.utimes(now, now);
      const ours = await this.isStillOurs(handle);
      // Let go of or taken anew meanwhile: this look is about a handle no longer in use.
      if (this.handle !== handle) return;
      if (!ours && !this.lost) {
        this.logger.error(`Ledger lock ${this.lockPath} was removed or replaced by someone else; taking it again before the next write`);
      }
      this.lost = !ours;
    } catch (err) {
      if (this.handle !== handle) return;
      if (!this.lost) this.logger.error(`Could not refresh ledger lock ${this.lockPath}: ${(err as Error).message}`);
      this.lost = true;
    }
    if (this.lost) this.onLost();
  }

  /** Throws LedgerLockedError if the current lock is live; otherwise moves it aside. */
  private async removeIfStale(): Promise<void> {
    const seen = await this.inspect(this.lockPath);
    if (!seen) return;
    if (!seen.stale) throw new LedgerLockedError(this.lockPath, seen.record.pid ?? null, seen.record.hostname ?? null);
    // Rename is atomic: of several processes taking over at once, one moves the stale file.
    const aside = `${this.lockPath}.stale-${randomUUID()}`;
    try {
      await rename(this.lockPath, aside);
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return;
      throw err;
    }
    const moved = await this.inspect(aside);
    if (moved && !moved.stale) {
      // Between our look and the rename a live holder took the lock: put it back.
      await link(aside, this.lockPath).catch(() => undefined);
    } else {
      this.logger.warn(
        `Took over a stale ledger lock ${this.lockPath} (holder pid ${seen.record.pid ?? 'unknown'} is gone or stopped refreshing it)`,
      );
    }
    await unlink(aside).catch(() => undefined);
  }

  private async inspect(path: string): Promise<{ record: LockRecord; stale: boolean } | null> {
    let content: string;
    let mtimeMs: number;
    try {
      [content, { mtimeMs }] = await Promise.all([readFile(path, 'utf8'), stat(path)]);
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return null;
      throw err;
    }
    let record: LockRecord = {};
    try {
      record = JSON.parse(content) as LockRecord;
    } catch {
      // Unreadable (damaged, or from another tool): only age can make it stale.
    }
    const sameHost = record.hostname === undefined || record.hostname === hostname();
    const holderGone = sameHost && typeof record.pid === 'number' && record.pid !== process.pid && !processIsAlive(record.pid);
    const notRefreshed = Date.now() - mtimeMs > this.staleMs;
    return { record, stale: holderGone || notRefreshed };
  }
}
