import { ConvoyError } from '@convoy/errors';

export const COUNTER_INVALID_COUNT = 'COUNTER_INVALID_COUNT';
export const COUNTER_NOT_RESERVED = 'COUNTER_NOT_RESERVED';

export interface BlockCounterOptions {
  /** Numbers reserved per durable write (≥ 1). */
  blockSize: number;
  /** Largest `count` one allocation may ask for. */
  maxCount: number;
  /**
   * The highest reservation ever made durable (0 for a fresh counter). Every number ever handed
   * out is ≤ it, so the counter resumes at `reservedUpTo + 1`.
   */
  reservedUpTo: number;
}

/** A range of numbers handed out, both ends included. */
export interface Allocation {
  readonly first: number;
  readonly last: number;
}

/**
 * The logical clock's number dispenser, without I/O. Guarantee: numbers are handed out strictly
 * increasing, each at most once, and never above a reservation that the caller confirmed durable
 * (`confirmReserved`). Since a restarted counter starts above the highest durable reservation, no
 * number is handed out twice across restarts either (kill -9 included). Numbers reserved but not
 * handed out before a crash are skipped: the clock has gaps, never repeats.
 *
 * Protocol per request: `reservationFor(count)`; if it returns a bound, make it durable, then
 * `confirmReserved(bound)`; then `allocate(count)`. Numbers start at 1.
 */
export class BlockCounter {
  readonly #blockSize: number;
  readonly #maxCount: number;
  #reserved: number;
  #next: number;
  #lastHandedOut: number;

  constructor(options: BlockCounterOptions) {
    if (!Number.isSafeInteger(options.blockSize) || options.blockSize < 1) throw new RangeError(`blockSize ${options.blockSize}: expected an integer ≥ 1`);
    if (!Number.isSafeInteger(options.maxCount) || options.maxCount < 1) throw new RangeError(`maxCount ${options.maxCount}: expected an integer ≥ 1`);
    if (!Number.isSafeInteger(options.reservedUpTo) || options.reservedUpTo < 0) throw new RangeError(`reservedUpTo ${options.reservedUpTo}: expected an integer ≥ 0`);
    this.#blockSize = options.blockSize;
    this.#maxCount = options.maxCount;
    this.#reserved = options.reservedUpTo;
    this.#next = options.reservedUpTo + 1;
    // Anything up to the durable bound may have been handed out before the restart.
    this.#lastHandedOut = options.reservedUpTo;
  }

  /** Highest number that may have been handed out (at start: the recovered reservation). */
  get lastHandedOut(): number {
    return this.#lastHandedOut;
  }

  get reservedUpTo(): number {
    return this.#reserved;
  }

  /** The next number `allocate` would hand out. */
  get next(): number {
    return this.#next;
  }

  /**
   * The bound to make durable before `allocate(count)`, or undefined when the current reservation
   * covers it. Bounds grow in whole blocks past the current reservation.
   */
  reservationFor(count: number): number | undefined {
    this.#checkCount(count);
    const needed = this.#next + count - 1;
    if (needed <= this.#reserved) return undefined;
    const blocks = Math.ceil((needed - this.#reserved) / this.#blockSize);
    return this.#reserved + blocks * this.#blockSize;
  }

  /** `bound` is durable. Lower or equal bounds change nothing. */
  confirmReserved(bound: number): void {
    if (!Number.isSafeInteger(bound)) throw new RangeError(`bound ${bound}: expected a safe integer`);
    if (bound > this.#reserved) this.#reserved = bound;
  }

  /** Hands out `count` consecutive numbers. Throws `COUNTER_NOT_RESERVED` if they are not durably reserved. */
  allocate(count: number): Allocation {
    this.#checkCount(count);
    const first = this.#next;
    const last = first + count - 1;
    if (last > this.#reserved) {
      throw new ConvoyError(COUNTER_NOT_RESERVED, `numbers up to ${last} are not reserved (reserved up to ${this.#reserved})`, { retriable: true });
    }
    this.#next = last + 1;
    this.#lastHandedOut = last;
    return { first, last };
  }

  #checkCount(count: number): void {
    if (!Number.isSafeInteger(count) || count < 1 || count > this.#maxCount) {
      throw new ConvoyError(COUNTER_INVALID_COUNT, `count=${count}: expected an integer from 1 to ${this.#maxCount}`, { context: { count } });
    }
  }
}
