import type { WatermarkOutput } from './watermark-output.ts';

/**
 * Generates watermarks for one input from the event times it sees (Flink's WatermarkGenerator,
 * with time passed in).
 *
 * Contract: `onEvent` is called for every event in arrival order; `onPeriodicEmit` is called at
 * the caller's cadence and may emit into `output`. Watermarks emitted never go backwards.
 * `now` is the caller's processing-time clock (ms); generators must not read a clock themselves.
 */
export interface WatermarkGenerator {
  onEvent(eventTime: number, now: number): void;
  onPeriodicEmit(output: WatermarkOutput, now: number): void;
}
