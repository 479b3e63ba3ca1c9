import { ArgumentsHost, Catch, ExceptionFilter } from '@nestjs/common';
import { LedgerValidationError } from 'nestjs-ledger';

interface JsonResponse {
  status(code: number): { json(body: unknown): void };
}

/** Answers a rejected event with 400 and the ledger's message (which names the field). */
@Catch(LedgerValidationError)
export class LedgerValidationFilter implements ExceptionFilter {
  catch(error: LedgerValidationError, host: ArgumentsHost): void {
    host.switchToHttp().getResponse<JsonResponse>().status(400).json({
      statusCode: 400,
      error: 'Bad Request',
      field: error.field,
      message: error.message,
    });
  }
}
