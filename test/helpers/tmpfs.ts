import { execFileSync } from 'node:child_process';
import { makeTempDir } from './temp-dir';

/**
 * A fresh 256 KiB tmpfs (a disk that fills up for real), or null, with the reason printed, where
 * mounting is not permitted: the caller skips its scenario. Unmount it with {@link unmountTmpfs}.
 */
export function mountSmallTmpfs(scenario: string): string | null {
  const mount = makeTempDir('ledger-tmpfs-');
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', mount], { stdio: 'pipe' });
    return mount;
  } catch (err) {
    console.log(`SKIPPED ${scenario}: mounting a tmpfs is not permitted here (${(err as Error).message.split('\n')[0]})`);
    return null;
  }
}

export function unmountTmpfs(mount: string): void {
  execFileSync('umount', [mount]);
}
