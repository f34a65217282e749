import { requireNonNegative } from '../slack/validate.ts';
import type { WatermarkGenerator } from './watermark-generator.ts';
import type { WatermarkOutput } from './watermark-output.ts';

/**
 * Watermarks for input whose disorder is bounded by `bound` (Flink's
 * BoundedOutOfOrdernessWatermarks): watermark = maxEventTime − bound − 1, i.e. no events with
 * event time ≤ maxEventTime − bound − 1 will follow; an event at exactly maxEventTime − bound is
 * still on time.
 *
 * Emits on `onPeriodicEmit` only once an event has been seen and only when the watermark has
 * advanced since the last emission (so the emitted sequence is strictly increasing).
 */
export class BoundedOutOfOrderness implements WatermarkGenerator {
  readonly #bound: number;
  #maxEventTime = Number.NEGATIVE_INFINITY;
  #lastEmitted = Number.NEGATIVE_INFINITY;

  constructor(bound: number) {
    this.#bound = requireNonNegative('bound', bound);
  }

  /** Current watermark (−Infinity before the first event). */
  get currentWatermark(): number {
    return this.#maxEventTime - this.#bound - 1;
  }

  onEvent(eventTime: number, _now: number): void {
    if (eventTime > this.#maxEventTime) this.#maxEventTime = eventTime;
  }

  onPeriodicEmit(output: WatermarkOutput, _now: number): void {
    const watermark = this.currentWatermark;
    if (watermark > this.#lastEmitted) {
      this.#lastEmitted = watermark;
      output.emitWatermark(watermark);
    }
  }
}
