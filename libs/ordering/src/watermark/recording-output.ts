import type { WatermarkOutput } from './watermark-output.ts';

/** Test helper: records every call in order, e.g. ['wm:5', 'idle', 'active', 'wm:9']. */
export class RecordingOutput implements WatermarkOutput {
  readonly calls: string[] = [];
  readonly watermarks: number[] = [];

  emitWatermark(watermark: number): void {
    this.calls.push(`wm:${watermark}`);
    this.watermarks.push(watermark);
  }

  markIdle(): void {
    this.calls.push('idle');
  }

  markActive(): void {
    this.calls.push('active');
  }

  take(): string[] {
    return this.calls.splice(0);
  }
}
