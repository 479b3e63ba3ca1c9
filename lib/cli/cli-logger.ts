import { LoggerService } from '@nestjs/common';

/**
 * The library's log lines in the command-line tool: plain `nestjs-ledger: warning: ...` lines on
 * stderr (no Nest colours or timestamps), informational lines only with `--verbose`.
 */
export class CliLogger implements LoggerService {
  constructor(private readonly showInfo: boolean) {}

  log(message: unknown): void {
    if (this.showInfo) this.write('', message);
  }
  warn(message: unknown): void {
    this.write('warning: ', message);
  }
  error(message: unknown): void {
    this.write('error: ', message);
  }
  debug(message: unknown): void {
    this.log(message);
  }
  verbose(message: unknown): void {
    this.log(message);
  }

  private write(prefix: string, message: unknown): void {
    process.stderr.write(`nestjs-ledger: ${prefix}${String(message)}\n`);
  }
}
