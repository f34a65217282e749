export type { WatermarkOutput } from './watermark-output.ts';
export type { WatermarkGenerator } from './watermark-generator.ts';
export { BoundedOutOfOrderness } from './bounded-out-of-orderness.ts';
export { WithIdleness } from './with-idleness.ts';
export {
  WatermarkTracker,
  type InputState,
  type InputStatus,
  type WatermarkTrackerOptions,
} from './watermark-tracker.ts';
