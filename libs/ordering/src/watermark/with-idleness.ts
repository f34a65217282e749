import { requirePositive } from '../slack/validate.ts';
import type { WatermarkGenerator } from './watermark-generator.ts';
import type { WatermarkOutput } from './watermark-output.ts';

/**
 * Wraps any generator (Flink's WatermarksWithIdleness): when no event has arrived for
 * `idleTimeout` ms of the caller's clock, `onPeriodicEmit` marks the output idle instead of
 * delegating; the first periodic emit after the next event marks it active again, then delegates.
 *
 * The quiet time is measured from the last event, or from the first `onPeriodicEmit` when no event
 * has arrived yet. `markIdle` is sent once per idle period.
 */
export class WithIdleness implements WatermarkGenerator {
  readonly #inner: WatermarkGenerator;
  readonly #idleTimeout: number;
  #lastActivityAt: number | undefined;
  #idle = false;

  constructor(inner: WatermarkGenerator, idleTimeout: number) {
    this.#inner = inner;
    this.#idleTimeout = requirePositive('idleTimeout', idleTimeout);
  }

  get idle(): boolean {
    return this.#idle;
  }

  onEvent(eventTime: number, now: number): void {
    this.#lastActivityAt = now;
    this.#inner.onEvent(eventTime, now);
  }

  onPeriodicEmit(output: WatermarkOutput, now: number): void {
    this.#lastActivityAt ??= now;
    const quiet = now - this.#lastActivityAt >= this.#idleTimeout;
    if (quiet) {
      if (!this.#idle) {
        this.#idle = true;
        output.markIdle();
      }
      return;
    }
    if (this.#idle) {
      this.#idle = false;
      output.markActive();
    }
    this.#inner.onPeriodicEmit(output, now);
  }
}
