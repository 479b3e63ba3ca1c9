import { LoggerService } from '@nestjs/common';

/** A LoggerService that keeps what it is told, to assert on it. */
export class CapturingLogger implements LoggerService {
  readonly entries: { level: string; message: string }[] = [];

  log(message: unknown): void {
    this.entries.push({ level: 'log', message: String(message) });
  }
  error(message: unknown): void {
    this.entries.push({ level: 'error', message: String(message) });
  }
  warn(message: unknown): void {
    this.entries.push({ level: 'warn', message: String(message) });
  }
  debug(message: unknown): void {
    this.entries.push({ level: 'debug', message: String(message) });
  }
  verbose(message: unknown): void {
    this.entries.push({ level: 'verbose', message: String(message) });
  }

  messages(level: string): string[] {
    return this.entries.filter((e) => e.level === level).map((e) => e.message);
  }
}
