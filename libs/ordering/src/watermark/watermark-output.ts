/**
 * Where watermarks go. A watermark W promises: no event with event time ≤ W will follow
 * (later ones are late). Implementations receive a non-decreasing sequence from every producer
 * in this package.
 *
 * `markIdle` says the stream is temporarily producing nothing; it is not a promise about data
 * still owed. `markActive` ends an idle period (emitting a watermark also implies it).
 */
export interface WatermarkOutput {
  emitWatermark(watermark: number): void;
  markIdle(): void;
  markActive(): void;
}
