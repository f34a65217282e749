/**
 * What happens to an event that arrives behind what its stream has already released:
 * - `emit-flagged`: handed to `late(…, 'emit-flagged')`, meant to be emitted out of order with a flag;
 * - `route-late`: handed to `late(…, 'route-late')`, meant for a late output (e.g. a `*.late` topic);
 * - `drop`: handed to `dropped(…, 'late')` and counted.
 */
export type LatePolicy = 'emit-flagged' | 'route-late' | 'drop';

/** Why an event left through `dropped`. */
export type DropReason = 'duplicate' | 'late';

/** Why a run of seqs was skipped without proof that it was dropped upstream. */
export type SuspectedDropCause = 'timeout' | 'overflow';

/**
 * What a full buffer does when one more event must be held:
 * - `force-oldest-gap` (sequence mode) / `force-release-oldest` (event-time mode): release the oldest
 *   held event(s) early, counted; events that arrive for what was skipped later are late.
 * - `back-pressure`: the event is not accepted (`insert` returns `'rejected-full'`); the caller keeps
 *   it, must pause its input and retry after the buffer drains (by a timer tick, marker or filler).
 */
export type SequenceOverflowPolicy = 'force-oldest-gap' | 'back-pressure';
export type EventTimeOverflowPolicy = 'force-release-oldest' | 'back-pressure';

/**
 * Where every event leaves a reorder buffer. Each accepted event reaches exactly one of
 * `deliver`, `late` or `dropped`, exactly once.
 *
 * Guarantee: per stream, the events passed to `deliver` are in strictly increasing seq order
 * (sequence mode) or non-decreasing event-time order, ties in arrival order (event-time mode).
 * Nothing passed to `late` was passed to `deliver`.
 */
export interface OrderedOutput<T> {
  deliver(stream: string, event: T): void;
  late(stream: string, event: T, policy: 'emit-flagged' | 'route-late'): void;
  dropped(stream: string, event: T, reason: DropReason): void;
}

/**
 * Sequence-mode output: also told about every run of seqs `[fromSeq, toSeq]` that was skipped
 * without proof (gap timeout or forced by overflow). Runs proven dropped (filler, marker) are only
 * counted.
 */
export interface ReorderOutput<T> extends OrderedOutput<T> {
  suspectedDrop(stream: string, fromSeq: number, toSeq: number, cause: SuspectedDropCause): void;
}

/** Outcome of one `insert` call, decided at insert time. A `'buffered'` event leaves later. */
export type InsertOutcome = 'delivered' | 'buffered' | 'duplicate' | 'late' | 'rejected-full';

/** Outcome of one `fill` call. */
export type FillOutcome = 'applied' | 'buffered' | 'ignored' | 'rejected-full';
