import { MinHeap } from '../window/min-heap.ts';
import {
  invalidInput,
  invalidOption,
  invalidSnapshot,
  requirePositiveInteger,
  requireTime,
} from '../window/validate.ts';

/** A driver's acceptance of a ride request. */
export interface RideAccept {
  requestId: string;
  driverId: string;
  /** When the ride was requested (ms). Retention counts from here; it must be the same on every accept of a request. */
  requestTime: number;
  acceptTime: number;
}

/** The request is this driver's. Emitted at most once per request, ever. */
export interface RideAssignment {
  requestId: string;
  driverId: string;
  requestTime: number;
  acceptTime: number;
}

/**
 * - `already-assigned`: another driver's accept came first.
 * - `expired`: the request is past its retention (or was retired early by overflow); its decision,
 *   if any, stands and is no longer tracked. A driver holding the assignment ignores it.
 * - `overloaded`: the tracked-request cap was reached and this request could not be tracked.
 */
export type CancellationReason = 'already-assigned' | 'expired' | 'overloaded';

/** Addressed to `driverId`: this accept of `requestId` did not win. */
export interface RideCancellation {
  requestId: string;
  driverId: string;
  acceptTime: number;
  reason: CancellationReason;
}

export interface DispatchOutput {
  emitAssignment(assignment: RideAssignment): void;
  emitCancellation(cancellation: RideCancellation): void;
}

/**
 * When a new request must be tracked while `maxTrackedRequests` are:
 * - `expire-oldest`: every tracked request with the oldest request time is retired early and the
 *   expiry floor rises to that time, so any later accept of a request at or before it is answered
 *   `expired` (never a second assignment). A new request not newer than that oldest time is
 *   answered `overloaded` instead.
 * - `reject-new`: the new request's accept is answered `overloaded`; nothing is retired.
 */
export type DispatchOverflowPolicy = 'expire-oldest' | 'reject-new';

export interface FirstAcceptDispatcherOptions {
  /** Ms after a request's time during which its decision is tracked. Must exceed the longest redelivery delay of an accept. */
  retention: number;
  /** Default 100 000. */
  maxTrackedRequests?: number;
  overflow?: DispatchOverflowPolicy;
}

/** Each accept ends in exactly one of these. */
export type AcceptDisposition = 'assigned' | 'cancelled' | 'duplicate';

export interface DispatchStats {
  acceptsIn: number;
  assignments: number;
  cancellations: Record<CancellationReason, number>;
  /** Repeated accepts by the driver who already holds the request: no output. */
  duplicates: number;
  decisionsExpired: number;
  decisionsRetiredByOverflow: number;
}

export interface DispatchDecisionSnapshot {
  requestId: string;
  driverId: string;
  requestTime: number;
  acceptTime: number;
}

/** Plain JSON. Restoring it and replaying the accepts that followed reproduces the same answers. */
export interface DispatchSnapshot {
  format: 1;
  retention: number;
  now: number | null;
  expiredThrough: number | null;
  decisions: DispatchDecisionSnapshot[];
}

function byRequestTime(a: DispatchDecisionSnapshot, b: DispatchDecisionSnapshot): number {
  if (a.requestTime !== b.requestTime) return a.requestTime - b.requestTime;
  if (a.requestId === b.requestId) return 0;
  return a.requestId < b.requestId ? -1 : 1;
}

/**
 * Decision correction for taxi dispatch: the first accept of a request wins and yields one
 * assignment; every later accept by another driver yields a cancellation addressed to that driver.
 *
 * Guarantees:
 * - At most one assignment per request id for the life of this state (and its restores), even
 *   after the request expired or was retired by overflow: such accepts are answered `expired`.
 * - The winner's repeated accept is a `duplicate` and produces nothing.
 * - Every accept produces exactly one assignment or cancellation, or is a counted duplicate.
 * - A decision is tracked while requestTime + retention > now and at most `maxTrackedRequests`
 *   are tracked. `now` is the caller's clock (event time or processing time); it never moves back:
 *   a smaller `now` than seen before is treated as the largest seen.
 */
export class FirstAcceptDispatcher {
  readonly #retention: number;
  readonly #cap: number;
  readonly #overflow: DispatchOverflowPolicy;
  readonly #decisions = new Map<string, DispatchDecisionSnapshot>();
  readonly #byRequestTime = new MinHeap<DispatchDecisionSnapshot>(byRequestTime);
  #now = -Infinity;
  #expiredThrough = -Infinity;
  #stats: DispatchStats = {
    acceptsIn: 0,
    assignments: 0,
    cancellations: { 'already-assigned': 0, expired: 0, overloaded: 0 },
    duplicates: 0,
    decisionsExpired: 0,
    decisionsRetiredByOverflow: 0,
  };

  constructor(options: FirstAcceptDispatcherOptions, restoreFrom?: DispatchSnapshot) {
    this.#retention = requirePositiveInteger('retention', options.retention);
    this.#cap = requirePositiveInteger('maxTrackedRequests', options.maxTrackedRequests ?? 100_000);
    const overflow = options.overflow ?? 'expire-oldest';
    if (overflow !== 'expire-oldest' && overflow !== 'reject-new') {
      throw invalidOption('overflow', overflow, "'expire-oldest' or 'reject-new'");
    }
    this.#overflow = overflow;
    if (restoreFrom !== undefined) this.#restore(restoreFrom);
  }

  get trackedRequests(): number {
    return this.#decisions.size;
  }

  get stats(): DispatchStats {
    return structuredClone(this.#stats);
  }

  /** Decides one accept; also retires every decision that expired by `now`. */
  onAccept(accept: RideAccept, now: number, output: DispatchOutput): AcceptDisposition {
    if (typeof accept.requestId !== 'string') throw invalidInput('requestId', accept.requestId, 'a string');
    if (typeof accept.driverId !== 'string') throw invalidInput('driverId', accept.driverId, 'a string');
    requireTime('requestTime', accept.requestTime);
    requireTime('acceptTime', accept.acceptTime);
    this.expire(now);
    this.#stats.acceptsIn += 1;
    if (accept.requestTime + this.#retention <= this.#now || accept.requestTime <= this.#expiredThrough) {
      return this.#cancel(accept, 'expired', output);
    }
    const decision = this.#decisions.get(accept.requestId);
    if (decision !== undefined) {
      if (decision.driverId === accept.driverId) {
        this.#stats.duplicates += 1;
        return 'duplicate';
      }
      return this.#cancel(accept, 'already-assigned', output);
    }
    if (this.#decisions.size >= this.#cap && !this.#makeRoomFor(accept.requestTime)) {
      return this.#cancel(accept, 'overloaded', output);
    }
    const assignment: DispatchDecisionSnapshot = {
      requestId: accept.requestId,
      driverId: accept.driverId,
      requestTime: accept.requestTime,
      acceptTime: accept.acceptTime,
    };
    this.#decisions.set(assignment.requestId, assignment);
    this.#byRequestTime.push(assignment);
    this.#stats.assignments += 1;
    output.emitAssignment({ ...assignment });
    return 'assigned';
  }

  /** Retires decisions with requestTime + retention <= now; returns how many. */
  expire(now: number): number {
    requireTime('now', now);
    if (now > this.#now) this.#now = now;
    let retired = 0;
    const before = this.#now - this.#retention;
    for (let top = this.#byRequestTime.peek(); top !== undefined && top.requestTime <= before; top = this.#byRequestTime.peek()) {
      this.#byRequestTime.pop();
      this.#decisions.delete(top.requestId);
      retired += 1;
    }
    this.#stats.decisionsExpired += retired;
    return retired;
  }

  snapshot(): DispatchSnapshot {
    return {
      format: 1,
      retention: this.#retention,
      now: Number.isFinite(this.#now) ? this.#now : null,
      expiredThrough: Number.isFinite(this.#expiredThrough) ? this.#expiredThrough : null,
      decisions: [...this.#decisions.values()].map((d) => ({ ...d })),
    };
  }

  #makeRoomFor(requestTime: number): boolean {
    if (this.#overflow === 'reject-new') return false;
    const oldest = this.#byRequestTime.peek();
    if (oldest === undefined || requestTime <= oldest.requestTime) return false;
    const floor = oldest.requestTime;
    this.#expiredThrough = Math.max(this.#expiredThrough, floor);
    for (let top = this.#byRequestTime.peek(); top !== undefined && top.requestTime <= floor; top = this.#byRequestTime.peek()) {
      this.#byRequestTime.pop();
      this.#decisions.delete(top.requestId);
      this.#stats.decisionsRetiredByOverflow += 1;
    }
    return true;
  }

  #cancel(accept: RideAccept, reason: CancellationReason, output: DispatchOutput): AcceptDisposition {
    this.#stats.cancellations[reason] += 1;
    output.emitCancellation({
      requestId: accept.requestId,
      driverId: accept.driverId,
      acceptTime: accept.acceptTime,
      reason,
    });
    return 'cancelled';
  }

  #restore(snapshot: DispatchSnapshot): void {
    if (snapshot === null || typeof snapshot !== 'object' || snapshot.format !== 1) throw invalidSnapshot('format is not 1');
    if (snapshot.retention !== this.#retention) {
      throw invalidSnapshot(`retention ${snapshot.retention} differs from ${this.#retention}`);
    }
    if (!Array.isArray(snapshot.decisions)) throw invalidSnapshot('decisions is not an array');
    if (snapshot.decisions.length > this.#cap) {
      throw invalidSnapshot(`${snapshot.decisions.length} decisions exceed maxTrackedRequests ${this.#cap}`);
    }
    this.#now = nullableTime(snapshot.now, 'now');
    this.#expiredThrough = nullableTime(snapshot.expiredThrough, 'expiredThrough');
    for (const d of snapshot.decisions) {
      if (
        d === null ||
        typeof d !== 'object' ||
        typeof d.requestId !== 'string' ||
        typeof d.driverId !== 'string' ||
        !Number.isSafeInteger(d.requestTime) ||
        !Number.isSafeInteger(d.acceptTime) ||
        this.#decisions.has(d.requestId)
      ) {
        throw invalidSnapshot(`bad decision ${JSON.stringify(d)}`);
      }
      const decision = { requestId: d.requestId, driverId: d.driverId, requestTime: d.requestTime, acceptTime: d.acceptTime };
      this.#decisions.set(decision.requestId, decision);
      this.#byRequestTime.push(decision);
    }
  }
}

function nullableTime(time: unknown, name: string): number {
  if (time === null) return -Infinity;
  if (typeof time !== 'number' || !Number.isSafeInteger(time)) throw invalidSnapshot(`${name} is not an integer or null`);
  return time;
}
