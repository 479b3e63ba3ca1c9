import { ArgumentsHost, Catch, ExceptionFilter, HttpStatus } from '@nestjs/common';
import { LedgerClosedError } from '../errors/ledger-closed.error';
import { LedgerEventRefusedError } from '../errors/ledger-event-refused.error';
import { LedgerLockLostError } from '../errors/ledger-lock-lost.error';
import { LedgerValidationError } from '../errors/ledger-validation.error';
import { LedgerWriteError } from '../errors/ledger-write.error';

/** The body of every answer of {@link LedgerExceptionFilter}. */
export interface LedgerErrorBody {
  statusCode: number;
  error: string;
  message: string;
  /** The offending field (validation errors only), e.g. `diffSummary.linesAdded`. */
  field?: string;
  /** The refused events' ids (refused events only). */
  eventIds?: string[];
}

/** The ledger errors the filter answers (a client can act on them); the other `LedgerError`s are server faults, left to Nest (500, logged). */
type AnsweredLedgerError = LedgerValidationError | LedgerClosedError | LedgerWriteError | LedgerEventRefusedError | LedgerLockLostError;

/**
 * Answers the ledger's errors in HTTP controllers with the status a client can act on:
 * - `LedgerValidationError` → 400 `{ field, message }` (fix the event);
 * - `LedgerEventRefusedError` → 422 (the database refused the event for good; it is in the dead-letter table);
 * - `LedgerWriteError` (a failed `flush()`), `LedgerClosedError` (shutting down) and `LedgerLockLostError`
 *   (another process took the NDJSON store's lock) → 503 (try again later;
 *   nothing acknowledged is lost, a failed write stays queued and is retried).
 *
 * Other `LedgerError`s (a bad option, a locked store at startup, ...) are faults of the
 * server, not of the request: the filter lets them through to Nest's own handling (500, logged).
 *
 * Register it globally, `app.useGlobalFilters(new LedgerExceptionFilter())`, or with `APP_FILTER`,
 * or on a controller with `@UseFilters(LedgerExceptionFilter)`. Works with Express and Fastify.
 */
@Catch(LedgerValidationError, LedgerClosedError, LedgerWriteError, LedgerEventRefusedError, LedgerLockLostError)
export class LedgerExceptionFilter implements ExceptionFilter<AnsweredLedgerError> {
  catch(error: AnsweredLedgerError, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw error;
    const body = ledgerErrorBody(error);
    const response = host.switchToHttp().getResponse<ExpressLike | FastifyLike>();
    if ('code' in response && typeof response.code === 'function') response.code(body.statusCode).send(body);
    else (response as ExpressLike).status(body.statusCode).json(body);
  }
}

/** The status and body {@link LedgerExceptionFilter} answers a ledger error with. */
export function ledgerErrorBody(error: AnsweredLedgerError): LedgerErrorBody {
  if (error instanceof LedgerValidationError)
    return { statusCode: HttpStatus.BAD_REQUEST, error: 'Bad Request', field: error.field, message: error.message };
  if (error instanceof LedgerEventRefusedError)
    return { statusCode: HttpStatus.UNPROCESSABLE_ENTITY, error: 'Unprocessable Entity', eventIds: error.eventIds, message: error.message };
  return { statusCode: HttpStatus.SERVICE_UNAVAILABLE, error: 'Service Unavailable', message: error.message };
}

interface ExpressLike {
  status(code: number): { json(body: unknown): unknown };
}

interface FastifyLike {
  code(code: number): { send(body: unknown): unknown };
}
