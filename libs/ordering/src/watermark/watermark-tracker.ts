import { invalidOption, requirePositive } from '../slack/validate.ts';
import type { WatermarkOutput } from './watermark-output.ts';

/**
 * - `active`: heard from within `idleTimeout`.
 * - `quiet`: silent for `idleTimeout` or longer. It may still owe data, so it keeps holding the
 *   combined watermark; quietness is reported (see `quietInputs`) so the caller can find out
 *   whether the input is caught up.
 * - `caughtUp`: the caller asserted that the input owes nothing (e.g. the consumer reached the
 *   partition's end offset). Excluded from the minimum until it speaks again.
 */
export type InputState = 'active' | 'quiet' | 'caughtUp';

export interface InputStatus {
  readonly watermark: number;
  readonly state: InputState;
  readonly lastHeardAt: number;
}

export interface WatermarkTrackerOptions {
  /** Input ids, all registered at `now` with watermark −Infinity. */
  inputs: readonly string[];
  /** Quiet time (ms) after which an input counts as idle. */
  idleTimeout: number;
  /** The caller's clock at construction (ms). */
  now: number;
  output: WatermarkOutput;
}

interface Input {
  watermark: number;
  lastHeardAt: number;
  caughtUp: boolean;
}

/**
 * Combines several inputs' monotonic watermarks (event time or a logical counter) into one
 * (the watermark forwarder / Flink's multiplexer).
 *
 * Rules and guarantees:
 * - Combined = max(last emitted, min over inputs not caught up). So it never goes backwards, and
 *   whenever it advances, the emitted value is ≤ the watermark of every input not caught up.
 * - Only `markCaughtUp` (an assertion that the input owes nothing) removes an input from the
 *   minimum. Quiet time alone never does: an input that is merely silent may still owe data, and
 *   idleness must never carry the combined watermark past data still owed.
 * - An input rejoins by speaking (`update` or `markActivity`). A rejoining input whose watermark
 *   is below the combined watermark cannot pull it back: the combined watermark holds until that
 *   input passes it, and the input's events at or below the combined watermark are late
 *   downstream (counted in `rejoinedBehind`).
 * - A per-input watermark lower than that input's previous one is ignored and counted in
 *   `regressions` (it still counts as the input speaking).
 * - Emits only when the combined watermark advances. When every input is quiet or caught up, the
 *   output is marked idle (once); when any input speaks again, it is marked active (once).
 */
export class WatermarkTracker {
  readonly #inputs = new Map<string, Input>();
  readonly #idleTimeout: number;
  readonly #output: WatermarkOutput;
  #combined = Number.NEGATIVE_INFINITY;
  #outputIdle = false;
  #regressions = 0;
  #rejoinedBehind = 0;

  constructor(options: WatermarkTrackerOptions) {
    this.#idleTimeout = requirePositive('idleTimeout', options.idleTimeout);
    this.#output = options.output;
    if (options.inputs.length === 0) throw invalidOption('inputs', '[]', 'at least one input id');
    for (const id of options.inputs) this.addInput(id, options.now);
  }

  /** Last emitted combined watermark (−Infinity before the first emission). */
  get combined(): number {
    return this.#combined;
  }

  get regressions(): number {
    return this.#regressions;
  }

  get rejoinedBehind(): number {
    return this.#rejoinedBehind;
  }

  /** Registers an input (e.g. a partition assigned). It holds the combined watermark until it passes it. */
  addInput(id: string, now: number, watermark = Number.NEGATIVE_INFINITY): void {
    if (this.#inputs.has(id)) throw invalidOption('input', id, 'an id not yet registered');
    this.#inputs.set(id, { watermark, lastHeardAt: now, caughtUp: false });
  }

  /** Unregisters an input for good (e.g. a partition revoked); it owes nothing here any more. */
  removeInput(id: string, now: number): void {
    this.#inputs.delete(id);
    this.#evaluate(now);
  }

  /** Input `id` reports watermark `watermark`. */
  update(id: string, watermark: number, now: number): void {
    const input = this.#get(id);
    this.#speak(input, now);
    if (watermark < input.watermark) this.#regressions++;
    else input.watermark = watermark;
    this.#evaluate(now);
  }

  /** Input `id` delivered data without a watermark: it is alive (and not caught up). */
  markActivity(id: string, now: number): void {
    this.#speak(this.#get(id), now);
    this.#evaluate(now);
  }

  /** The caller asserts input `id` owes nothing now; it leaves the minimum until it speaks again. */
  markCaughtUp(id: string, now: number): void {
    this.#get(id).caughtUp = true;
    this.#evaluate(now);
  }

  /** Re-evaluates quiet timers at `now` (call periodically). */
  onPeriodicEmit(now: number): void {
    this.#evaluate(now);
  }

  status(id: string, now: number): InputStatus {
    const input = this.#get(id);
    return { watermark: input.watermark, state: this.#state(input, now), lastHeardAt: input.lastHeardAt };
  }

  /** Inputs that are quiet but not caught up: the ones that may be stalling the combined watermark. */
  quietInputs(now: number): string[] {
    const ids: string[] = [];
    for (const [id, input] of this.#inputs) if (this.#state(input, now) === 'quiet') ids.push(id);
    return ids;
  }

  #get(id: string): Input {
    const input = this.#inputs.get(id);
    if (input === undefined) throw invalidOption('input', id, 'a registered input id');
    return input;
  }

  #speak(input: Input, now: number): void {
    if (input.caughtUp && input.watermark < this.#combined) this.#rejoinedBehind++;
    input.caughtUp = false;
    if (now > input.lastHeardAt) input.lastHeardAt = now;
  }

  #state(input: Input, now: number): InputState {
    if (input.caughtUp) return 'caughtUp';
    return now - input.lastHeardAt >= this.#idleTimeout ? 'quiet' : 'active';
  }

  #evaluate(now: number): void {
    let min = Number.POSITIVE_INFINITY;
    let anyActive = false;
    for (const input of this.#inputs.values()) {
      const state = this.#state(input, now);
      if (state === 'active') anyActive = true;
      if (state !== 'caughtUp' && input.watermark < min) min = input.watermark;
    }
    if (anyActive && this.#outputIdle) {
      this.#outputIdle = false;
      this.#output.markActive();
    }
    if (min !== Number.POSITIVE_INFINITY && min > this.#combined) {
      if (this.#outputIdle) {
        this.#outputIdle = false;
        this.#output.markActive();
      }
      this.#combined = min;
      this.#output.emitWatermark(min);
    }
    if (!anyActive && !this.#outputIdle) {
      this.#outputIdle = true;
      this.#output.markIdle();
    }
  }
}
