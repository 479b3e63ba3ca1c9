import { SingleBar } from 'cli-progress';
import { displayBytes } from './display-format';

/** When a command draws a progress bar: `--progress` forces it, `--no-progress` turns it off. */
export interface ProgressChoice {
  progress?: boolean | undefined;
}

/**
 * A progress bar with rate and ETA on stderr, drawn only on a terminal: not when stderr is
 * piped, and not when the command streams its data to the same terminal on stdout.
 */
export class ProgressBar {
  private bar: SingleBar | null = null;
  private started = 0;

  private constructor(
    private readonly label: string,
    private readonly unit: 'bytes' | 'events' | 'rows',
    private readonly enabled: boolean,
    private readonly forced: boolean,
  ) {}

  static create(label: string, unit: 'bytes' | 'events' | 'rows', choice: ProgressChoice, dataOnStdout = false): ProgressBar {
    const forced = choice.progress === true;
    const terminal = process.stderr.isTTY === true && !(dataOnStdout && process.stdout.isTTY === true);
    return new ProgressBar(label, unit, choice.progress !== false && (forced || terminal), forced);
  }

  /** Moves the bar to `done` of `total`. */
  update(done: number, total: number): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (!this.bar) {
      this.started = now;
      this.bar = new SingleBar({
        stream: process.stderr,
        noTTYOutput: this.forced,
        notTTYSchedule: 200,
        hideCursor: true,
        clearOnComplete: false,
        etaBuffer: 50,
        format: `${this.label} [{bar}] {percentage}% | {shown} | {rate} | ETA {eta_formatted}`,
      });
      this.bar.start(Math.max(total, 1), 0, this.payload(0, total, now));
    }
    this.bar.setTotal(Math.max(total, 1));
    this.bar.update(done, this.payload(done, total, now));
  }

  private payload(done: number, total: number, now: number): { shown: string; rate: string } {
    const seconds = Math.max((now - this.started) / 1000, 0.001);
    return { shown: `${this.format(done)} / ${this.format(total)}`, rate: `${this.format(done / seconds)}/s` };
  }

  /** Ends the bar (the line stays, at 100% when the work completed). */
  stop(): void {
    this.bar?.stop();
    this.bar = null;
  }

  private format(value: number): string {
    if (this.unit === 'bytes') return displayBytes(value);
    return `${Math.round(value).toLocaleString('en-US')} ${this.unit}`;
  }
}
