import { invalidOption, requireNonNegative } from './validate.ts';

export interface AlphaControllerOptions {
  /** Proportional gain. Default 0.5 (Siddhi's value). */
  kp?: number;
  /** Derivative gain. Default 0.8 (Siddhi's value). */
  kd?: number;
  /** Lower clamp for α. Default 0.5. Upper clamp is 1. */
  alphaMin?: number;
  /** Starting α. Default 1. */
  initialAlpha?: number;
}

/**
 * Incremental PD controller on the target in-time tuple fraction α (AQ-K-slack's control loop):
 * e = θ_thr − θ_meas; α ← clamp(α + kp·e + kd·(e − e_prev), alphaMin, 1).
 *
 * Guarantees: α stays in [alphaMin, 1]; coverage below the set point (e > 0) never lowers α on the
 * first step, coverage above it never raises α on the first step (no derivative kick: e_prev
 * starts equal to the first e).
 */
export class AlphaController {
  readonly #kp: number;
  readonly #kd: number;
  readonly #alphaMin: number;
  #alpha: number;
  #previousError: number | undefined;

  constructor(options: AlphaControllerOptions = {}) {
    this.#kp = requireNonNegative('kp', options.kp ?? 0.5);
    this.#kd = requireNonNegative('kd', options.kd ?? 0.8);
    const alphaMin = options.alphaMin ?? 0.5;
    if (!(alphaMin >= 0 && alphaMin <= 1)) throw invalidOption('alphaMin', alphaMin, 'a number in [0, 1]');
    this.#alphaMin = alphaMin;
    const initial = options.initialAlpha ?? 1;
    if (!(initial >= 0 && initial <= 1)) throw invalidOption('initialAlpha', initial, 'a number in [0, 1]');
    this.#alpha = this.#clamp(initial);
  }

  get alpha(): number {
    return this.#alpha;
  }

  /** Moves α to `alpha` (clamped) without a control step; used to start at α = θ_thr. */
  reset(alpha: number): void {
    this.#alpha = this.#clamp(alpha);
    this.#previousError = undefined;
  }

  /** One control step; returns the new α. */
  step(thetaThreshold: number, thetaMeasured: number): number {
    const error = thetaThreshold - thetaMeasured;
    const previous = this.#previousError ?? error;
    this.#alpha = this.#clamp(this.#alpha + this.#kp * error + this.#kd * (error - previous));
    this.#previousError = error;
    return this.#alpha;
  }

  #clamp(alpha: number): number {
    return Math.min(1, Math.max(this.#alphaMin, alpha));
  }
}
