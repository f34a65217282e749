import type { SlackEstimator } from './slack-estimator.ts';
import { requireMaxK } from './validate.ts';

export interface KSlackOptions {
  /** Upper bound on K in event-time units. Default: Infinity. */
  maxK?: number;
}

/**
 * Adaptive K-slack of Mutschler & Philippsen (IPDPS'13), "MP-K-slack".
 *
 * The clock is derived from the events: clk = the largest event time observed. An arriving
 * event's delay is clk − ts (clk taken before the event; an event that advances clk has delay 0),
 * and K = min(maxK, max(K, delay)).
 *
 * Guarantees: K starts at 0, never shrinks, never exceeds maxK, and equals min(maxK, largest
 * delay observed so far). In-order input keeps K at 0.
 */
export class KSlack implements SlackEstimator {
  readonly #maxK: number;
  #clock = Number.NEGATIVE_INFINITY;
  #k = 0;
  #maxDelay = 0;

  constructor(options: KSlackOptions = {}) {
    this.#maxK = requireMaxK(options.maxK ?? Number.POSITIVE_INFINITY);
  }

  get slack(): number {
    return this.#k;
  }

  /** Largest event time observed (−Infinity before the first event). */
  get clock(): number {
    return this.#clock;
  }

  /** Largest delay observed, uncapped (K is this value capped by maxK). */
  get maxDelay(): number {
    return this.#maxDelay;
  }

  observe(eventTime: number, _value: number): void {
    if (eventTime > this.#clock) {
      this.#clock = eventTime;
      return;
    }
    const delay = this.#clock - eventTime;
    if (delay > this.#maxDelay) {
      this.#maxDelay = delay;
      this.#k = Math.min(this.#maxK, delay);
    }
  }
}
