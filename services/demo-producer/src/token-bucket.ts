/**
 * A token bucket on an injected clock: `ratePerSecond` tokens accrue continuously up to
 * `capacity` (the largest burst). Over any interval of length t from the start, at most
 * capacity + rate × t tokens are granted. Starts full.
 */
export class TokenBucket {
  readonly ratePerSecond: number;
  readonly capacity: number;
  #tokens: number;
  #at: number;

  constructor(options: { ratePerSecond: number; capacity?: number }, now: number) {
    if (!(options.ratePerSecond > 0) || !Number.isFinite(options.ratePerSecond)) throw new RangeError(`ratePerSecond must be > 0, got ${options.ratePerSecond}`);
    const capacity = options.capacity ?? Math.max(1, Math.ceil(options.ratePerSecond / 10));
    if (!(capacity >= 1)) throw new RangeError(`capacity must be >= 1, got ${capacity}`);
    this.ratePerSecond = options.ratePerSecond;
    this.capacity = capacity;
    this.#tokens = capacity;
    this.#at = now;
  }

  #refill(now: number): void {
    if (now > this.#at) {
      this.#tokens = Math.min(this.capacity, this.#tokens + ((now - this.#at) * this.ratePerSecond) / 1000);
      this.#at = now;
    }
  }

  /** Whole tokens available at `now`. */
  available(now: number): number {
    this.#refill(now);
    return Math.floor(this.#tokens);
  }

  /** Takes up to `max` whole tokens; returns how many were taken. */
  take(max: number, now: number): number {
    this.#refill(now);
    const granted = Math.max(0, Math.min(Math.floor(max), Math.floor(this.#tokens)));
    this.#tokens -= granted;
    return granted;
  }

  /** ms from `now` until `n` (≤ capacity) whole tokens are available; 0 when they already are. */
  msUntil(n: number, now: number): number {
    this.#refill(now);
    const missing = Math.min(n, this.capacity) - this.#tokens;
    return missing <= 0 ? 0 : Math.ceil((missing * 1000) / this.ratePerSecond);
  }
}
