/** Opening the store at startup, retrying with backoff. */
import type { LoggerService } from '@nestjs/common';
import { LedgerConfigError } from '../../errors/ledger-config.error';
import { LedgerStorageUnavailableError } from '../../errors/ledger-storage-unavailable.error';
import { isLastingOpenFailure, whatToCheck } from './postgres-open-failure';
import type { PostgresTarget } from './postgres-target';

/** The longest wait between two attempts: the delay doubles from `retryDelayMs` up to this (or `retryDelayMs` if longer). */
export const MAX_RETRY_DELAY_MS = 10_000;

/** How {@link openWithRetry} tries. */
export interface StartupRetry {
  /** Attempts after the first failed one. */
  retryAttempts: number;
  /** Wait before the first retry, in ms; doubled after each further failure, up to {@link MAX_RETRY_DELAY_MS}. */
  retryDelayMs: number;
  target: PostgresTarget;
  logger: LoggerService;
  /** Aborted when the store closes: no further attempt. */
  signal: AbortSignal;
}

/**
 * Runs `open` until it succeeds, retrying failures that may heal with backoff (a warning each time,
 * with attempt n/N). A failure no retry can cure is thrown at once; the ledger's own errors as they
 * are, a driver's error as a {@link LedgerStorageUnavailableError} saying what to check.
 */
export async function openWithRetry(open: () => Promise<void>, retry: StartupRetry): Promise<void> {
  const total = retry.retryAttempts + 1;
  for (let attempt = 1; ; attempt++) {
    try {
      await open();
      return;
    } catch (err) {
      // The ledger's own verdict (a table of a newer release) already names the option and what to do.
      // (Not `instanceof Error`: errors of another realm, such as a test sandbox's, are errors too.)
      if (err instanceof LedgerConfigError || typeof (err as Error | undefined)?.message !== 'string') throw err;
      const error = hidePassword(err as Error, retry.target.password);
      if (isLastingOpenFailure(error) || attempt === total || retry.signal.aborted) {
        throw new LedgerStorageUnavailableError(retry.target.description, attempt, error, whatToCheck(error, retry.target));
      }
      const delayMs = Math.min(retry.retryDelayMs * 2 ** (attempt - 1), Math.max(retry.retryDelayMs, MAX_RETRY_DELAY_MS));
      retry.logger.warn(
        `Cannot open the PostgreSQL storage at ${retry.target.description} (attempt ${attempt}/${total}): ${error.message}; retrying in ${delayMs} ms`,
      );
      await sleep(delayMs, retry.signal);
    }
  }
}

/** `err`, or a copy of it whose message does not show `password` (drivers do not print it; this makes sure). */
function hidePassword(err: Error, password: string | undefined): Error {
  if (!password || !err.message.includes(password)) return err;
  const copy = new Error(err.message.split(password).join('***'));
  const code = (err as { code?: unknown }).code;
  if (code !== undefined) Object.assign(copy, { code });
  return copy;
}

/** Resolves after `ms`, or at once when `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done);
  });
}
