/** How the lock errors name the process that holds a lock. */

/** The process that holds a lock, as the lock errors name it: `process 42 on host`, or `another process`. */
export function describeLockHolder(pid: number | null, host: string | null): string {
  return pid === null ? 'another process' : `process ${pid}${host ? ` on ${host}` : ''}`;
}
