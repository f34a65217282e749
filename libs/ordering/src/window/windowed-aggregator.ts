import { MinHeap } from './min-heap.ts';
import { addToAggregate, aggregateOf, copyAggregate, type WindowAggregate } from './window-aggregate.ts';
import type { WindowAssigner, WindowBounds } from './window-assigner.ts';
import { windowResultKey } from './window-result-key.ts';
import {
  invalidInput,
  invalidOption,
  invalidSnapshot,
  requireNonNegativeInteger,
  requirePositiveInteger,
  requireTime,
} from './validate.ts';

/**
 * `early`: the window is still open (watermark < end); more events will change it.
 * `final`: the watermark passed the window's end (or overflow retired it); the first result that
 * claims completeness. `correction`: a late event changed a window that already had its final.
 */
export type WindowResultKind = 'early' | 'final' | 'correction';

/**
 * One version of one window's result. Versions of a window are 1, 2, 3… without gaps, each
 * emitted exactly once; `previous` is the value of the version before (absent for version 1),
 * so a consumer can retract it. Every version shares the record key
 * `windowResultKey(key, windowStart, windowEnd)`.
 */
export interface WindowResult {
  key: string;
  windowStart: number;
  windowEnd: number;
  value: WindowAggregate;
  version: number;
  kind: WindowResultKind;
  previous?: WindowAggregate;
}

/**
 * Why an event could not be counted in one of its windows.
 * - `window-retired`: the watermark reached end + allowedLateness; the window's state is gone.
 * - `overflow-retired`: the window was retired early because the open-window cap was reached.
 * - `overflow-rejected`: the cap was reached and this would have opened a new window that is not
 *   newer than every open one (or the policy is `reject-new`).
 */
export type WindowLateReason = 'window-retired' | 'overflow-retired' | 'overflow-rejected';

export interface RejectedWindow {
  windowStart: number;
  windowEnd: number;
  reason: WindowLateReason;
}

/**
 * An event that at least one of its windows refused. `countedIn` is how many of its other windows
 * did count it (only hopping windows can make it non-zero). Every (event, window) pair is either
 * counted or listed in `rejected` — never both, never neither.
 */
export interface LateWindowEvent {
  key: string;
  eventTime: number;
  value: number;
  countedIn: number;
  rejected: RejectedWindow[];
}

/** The sink of a windowed aggregator, in emission order. */
export interface WindowOutput {
  emitResult(result: WindowResult): void;
  emitLate(event: LateWindowEvent): void;
}

/**
 * What happens when an event needs a new window while `maxOpenWindows` are open.
 * - `retire-oldest`: every open window with the smallest end is fired (as `final`, if it had no
 *   final yet) and retired at once; the retirement floor rises to that end, so later events for
 *   any window ending at or before it go to the late output (`overflow-retired`). If the new
 *   window is not newer than that oldest end, the new window is refused instead.
 * - `reject-new`: the open windows are kept; the event is refused for the new window
 *   (`overflow-rejected`).
 */
export type WindowOverflowPolicy = 'retire-oldest' | 'reject-new';

export interface WindowedAggregatorOptions {
  windows: WindowAssigner;
  /** Ms after a window's end during which late events still correct it. Default 0. */
  allowedLateness?: number;
  /** Cap on windows held in state (open or awaiting corrections). Default 100 000. */
  maxOpenWindows?: number;
  overflow?: WindowOverflowPolicy;
  /** Emit an `early` result after every n events counted in a window since its last result. */
  earlyEveryEvents?: number;
  /** In `onPeriodicEmit`, emit `early` results for changed windows at most once per this many ms. */
  earlyEveryMs?: number;
}

export type WindowEventDisposition = 'counted' | 'partly-late' | 'late';

/** Counters since construction (not part of the snapshot). */
export interface WindowAggregatorStats {
  eventsIn: number;
  /** Counted in all of their windows. */
  eventsCounted: number;
  /** Counted in some windows, refused by others (hopping windows only). */
  eventsPartlyLate: number;
  /** Counted in no window. */
  eventsLate: number;
  rejectedAssignments: Record<WindowLateReason, number>;
  earlyResults: number;
  finalResults: number;
  corrections: number;
  windowsOpened: number;
  windowsRetiredByWatermark: number;
  windowsRetiredByOverflow: number;
}

/** One window's state as stored in a snapshot. */
export interface WindowStateSnapshot {
  key: string;
  start: number;
  end: number;
  value: WindowAggregate;
  /** Last version emitted; 0 when nothing was emitted yet. */
  version: number;
  /** Value of the last emitted version; null when version is 0. */
  emitted: WindowAggregate | null;
  /** Events counted since the last emitted version. */
  sinceEmit: number;
  /** Whether the final result was emitted (later changes are corrections). */
  fired: boolean;
}

/**
 * Plain JSON data. Restoring it and replaying the input that followed the snapshot reproduces
 * exactly the results the uninterrupted aggregator would have emitted: versions continue from
 * the stored ones and no open window is lost. Times that were never set are null.
 */
export interface WindowSnapshot {
  format: 1;
  windows: { size: number; slide: number; offset: number };
  allowedLateness: number;
  watermark: number | null;
  retiredThrough: number | null;
  lastEarlyRoundAt: number | null;
  open: WindowStateSnapshot[];
}

interface WindowState extends WindowStateSnapshot {
  id: string;
  retired: boolean;
}

function byEndThenKey(a: WindowState, b: WindowState): number {
  if (a.end !== b.end) return a.end - b.end;
  if (a.key !== b.key) return a.key < b.key ? -1 : 1;
  return a.start - b.start;
}

function emptyStats(): WindowAggregatorStats {
  return {
    eventsIn: 0,
    eventsCounted: 0,
    eventsPartlyLate: 0,
    eventsLate: 0,
    rejectedAssignments: { 'window-retired': 0, 'overflow-retired': 0, 'overflow-rejected': 0 },
    earlyResults: 0,
    finalResults: 0,
    corrections: 0,
    windowsOpened: 0,
    windowsRetiredByWatermark: 0,
    windowsRetiredByOverflow: 0,
  };
}

/**
 * Keyed event-time windows (count / sum / min / max) with course correction, driven by the caller.
 *
 * Watermark contract: `onWatermark(w)` promises that no event with time < w will follow.
 * - A window [start, end) gets its `final` result when the watermark passes its last instant
 *   end − 1, i.e. when w >= end (Flink's `maxTimestamp <= watermark`, restated for a strict "<"
 *   watermark).
 * - An event for a window with end + allowedLateness > w is still counted; if the window already
 *   had its final, a `correction` is emitted at once.
 * - When w >= end + allowedLateness the window is retired: its state is dropped and its events
 *   go to the late output. A retired window is never emitted again.
 * - At most `maxOpenWindows` windows are held; see `WindowOverflowPolicy`.
 * Every (event, window) pair is counted or reported late, and nothing else happens to it.
 * Pure: no clock, no I/O; time only comes in through `onWatermark` and `onPeriodicEmit(now)`.
 */
export class WindowedAggregator {
  readonly #assigner: WindowAssigner;
  readonly #lateness: number;
  readonly #cap: number;
  readonly #overflow: WindowOverflowPolicy;
  readonly #earlyEveryEvents: number;
  readonly #earlyEveryMs: number;
  readonly #open = new Map<string, WindowState>();
  readonly #unfired = new MinHeap<WindowState>(byEndThenKey);
  readonly #byEnd = new MinHeap<WindowState>(byEndThenKey);
  #watermark = -Infinity;
  #retiredThrough = -Infinity;
  #lastEarlyRoundAt = -Infinity;
  #stats = emptyStats();

  constructor(options: WindowedAggregatorOptions, restoreFrom?: WindowSnapshot) {
    this.#assigner = options.windows;
    this.#lateness = requireNonNegativeInteger('allowedLateness', options.allowedLateness ?? 0);
    this.#cap = requirePositiveInteger('maxOpenWindows', options.maxOpenWindows ?? 100_000);
    const overflow = options.overflow ?? 'retire-oldest';
    if (overflow !== 'retire-oldest' && overflow !== 'reject-new') {
      throw invalidOption('overflow', overflow, "'retire-oldest' or 'reject-new'");
    }
    this.#overflow = overflow;
    this.#earlyEveryEvents =
      options.earlyEveryEvents === undefined ? 0 : requirePositiveInteger('earlyEveryEvents', options.earlyEveryEvents);
    this.#earlyEveryMs =
      options.earlyEveryMs === undefined ? 0 : requirePositiveInteger('earlyEveryMs', options.earlyEveryMs);
    if (restoreFrom !== undefined) this.#restore(restoreFrom);
  }

  /** Highest watermark seen; -Infinity before the first. */
  get currentWatermark(): number {
    return this.#watermark;
  }

  get openWindowCount(): number {
    return this.#open.size;
  }

  get stats(): WindowAggregatorStats {
    return structuredClone(this.#stats);
  }

  /** Counts the event in each of its windows, or reports it late; may emit early/final/correction results. */
  onEvent(key: string, eventTime: number, value: number, output: WindowOutput): WindowEventDisposition {
    requireTime('eventTime', eventTime);
    if (!Number.isFinite(value)) throw invalidInput('value', value, 'a finite number');
    this.#stats.eventsIn += 1;
    const rejected: RejectedWindow[] = [];
    let countedIn = 0;
    for (const window of this.#assigner.assignWindows(eventTime)) {
      const reason = this.#admit(key, window, value, output);
      if (reason === undefined) {
        countedIn += 1;
      } else {
        this.#stats.rejectedAssignments[reason] += 1;
        rejected.push({ windowStart: window.start, windowEnd: window.end, reason });
      }
    }
    if (rejected.length === 0) {
      this.#stats.eventsCounted += 1;
      return 'counted';
    }
    output.emitLate({ key, eventTime, value, countedIn, rejected });
    if (countedIn > 0) {
      this.#stats.eventsPartlyLate += 1;
      return 'partly-late';
    }
    this.#stats.eventsLate += 1;
    return 'late';
  }

  /** Fires every window with end <= watermark, then retires every window with end + allowedLateness <= watermark. A watermark that does not advance is ignored. */
  onWatermark(watermark: number, output: WindowOutput): void {
    requireTime('watermark', watermark);
    if (watermark <= this.#watermark) return;
    this.#watermark = watermark;
    for (let top = this.#unfired.peek(); top !== undefined && top.end <= watermark; top = this.#unfired.peek()) {
      this.#unfired.pop();
      if (top.retired || top.fired) continue;
      top.fired = true;
      this.#emit(top, 'final', output);
    }
    const retireBefore = watermark - this.#lateness;
    for (let top = this.#byEnd.peek(); top !== undefined && top.end <= retireBefore; top = this.#byEnd.peek()) {
      this.#byEnd.pop();
      this.#retire(top);
      this.#stats.windowsRetiredByWatermark += 1;
    }
  }

  /**
   * Time-based early firing: when `earlyEveryMs` is set and at least that long has passed since
   * the previous round (the first call always runs one), every window without a final that changed
   * since its last result emits an `early` result, oldest end first.
   */
  onPeriodicEmit(now: number, output: WindowOutput): void {
    if (this.#earlyEveryMs === 0) return;
    requireTime('now', now);
    if (now - this.#lastEarlyRoundAt < this.#earlyEveryMs) return;
    this.#lastEarlyRoundAt = now;
    const changed: WindowState[] = [];
    for (const state of this.#open.values()) if (!state.fired && state.sinceEmit > 0) changed.push(state);
    changed.sort(byEndThenKey);
    for (const state of changed) this.#emit(state, 'early', output);
  }

  snapshot(): WindowSnapshot {
    const open: WindowStateSnapshot[] = [];
    for (const s of this.#open.values()) {
      open.push({
        key: s.key,
        start: s.start,
        end: s.end,
        value: copyAggregate(s.value),
        version: s.version,
        emitted: s.emitted === null ? null : copyAggregate(s.emitted),
        sinceEmit: s.sinceEmit,
        fired: s.fired,
      });
    }
    return {
      format: 1,
      windows: { size: this.#assigner.size, slide: this.#assigner.slide, offset: this.#assigner.offset },
      allowedLateness: this.#lateness,
      watermark: finiteOrNull(this.#watermark),
      retiredThrough: finiteOrNull(this.#retiredThrough),
      lastEarlyRoundAt: finiteOrNull(this.#lastEarlyRoundAt),
      open,
    };
  }

  #admit(key: string, window: WindowBounds, value: number, output: WindowOutput): WindowLateReason | undefined {
    if (window.end + this.#lateness <= this.#watermark) return 'window-retired';
    if (window.end <= this.#retiredThrough) return 'overflow-retired';
    const id = windowResultKey(key, window.start, window.end);
    let state = this.#open.get(id);
    if (state === undefined) {
      if (this.#open.size >= this.#cap && !this.#makeRoomFor(window, output)) return 'overflow-rejected';
      state = {
        id,
        key,
        start: window.start,
        end: window.end,
        value: aggregateOf(value),
        version: 0,
        emitted: null,
        sinceEmit: 1,
        fired: false,
        retired: false,
      };
      this.#open.set(id, state);
      this.#byEnd.push(state);
      this.#stats.windowsOpened += 1;
      if (state.end > this.#watermark) {
        this.#unfired.push(state);
      } else {
        // Opened by a late event within the allowed lateness: its watermark has already passed.
        state.fired = true;
        this.#emit(state, 'final', output);
        return undefined;
      }
    } else {
      addToAggregate(state.value, value);
      state.sinceEmit += 1;
      if (state.fired) {
        this.#emit(state, 'correction', output);
        return undefined;
      }
    }
    if (this.#earlyEveryEvents > 0 && state.sinceEmit >= this.#earlyEveryEvents) this.#emit(state, 'early', output);
    return undefined;
  }

  #makeRoomFor(window: WindowBounds, output: WindowOutput): boolean {
    if (this.#overflow === 'reject-new') return false;
    const oldest = this.#byEnd.peek();
    if (oldest === undefined || window.end <= oldest.end) return false;
    const floor = oldest.end;
    this.#retiredThrough = Math.max(this.#retiredThrough, floor);
    for (let top = this.#byEnd.peek(); top !== undefined && top.end <= floor; top = this.#byEnd.peek()) {
      this.#byEnd.pop();
      if (!top.fired) {
        top.fired = true;
        this.#emit(top, 'final', output);
      }
      this.#retire(top);
      this.#stats.windowsRetiredByOverflow += 1;
    }
    // The retired windows had the smallest ends, so their stale unfired entries are all on top.
    while (this.#unfired.peek()?.retired === true) this.#unfired.pop();
    return true;
  }

  #retire(state: WindowState): void {
    state.retired = true;
    this.#open.delete(state.id);
  }

  #emit(state: WindowState, kind: WindowResultKind, output: WindowOutput): void {
    const result: WindowResult = {
      key: state.key,
      windowStart: state.start,
      windowEnd: state.end,
      value: copyAggregate(state.value),
      version: state.version + 1,
      kind,
    };
    if (state.emitted !== null) result.previous = copyAggregate(state.emitted);
    state.version = result.version;
    state.emitted = copyAggregate(state.value);
    state.sinceEmit = 0;
    if (kind === 'early') this.#stats.earlyResults += 1;
    else if (kind === 'final') this.#stats.finalResults += 1;
    else this.#stats.corrections += 1;
    output.emitResult(result);
  }

  #restore(snapshot: WindowSnapshot): void {
    if (snapshot === null || typeof snapshot !== 'object' || snapshot.format !== 1) throw invalidSnapshot('format is not 1');
    const w = snapshot.windows;
    const a = this.#assigner;
    if (w?.size !== a.size || w.slide !== a.slide || w.offset !== a.offset) {
      throw invalidSnapshot(
        `it was taken with windows ${JSON.stringify(w)}, this aggregator has size ${a.size}, slide ${a.slide}, offset ${a.offset}`,
      );
    }
    if (snapshot.allowedLateness !== this.#lateness) {
      throw invalidSnapshot(`allowedLateness ${snapshot.allowedLateness} differs from ${this.#lateness}`);
    }
    if (!Array.isArray(snapshot.open)) throw invalidSnapshot('open is not an array');
    if (snapshot.open.length > this.#cap) {
      throw invalidSnapshot(`${snapshot.open.length} open windows exceed maxOpenWindows ${this.#cap}`);
    }
    this.#watermark = optionalTime(snapshot.watermark, 'watermark');
    this.#retiredThrough = optionalTime(snapshot.retiredThrough, 'retiredThrough');
    this.#lastEarlyRoundAt = optionalTime(snapshot.lastEarlyRoundAt, 'lastEarlyRoundAt');
    for (const s of snapshot.open) {
      if (!isWindowStateSnapshot(s) || s.end - s.start !== a.size) throw invalidSnapshot(`bad window ${JSON.stringify(s)}`);
      const id = windowResultKey(s.key, s.start, s.end);
      if (this.#open.has(id)) throw invalidSnapshot(`window ${id} appears twice`);
      const state: WindowState = {
        id,
        key: s.key,
        start: s.start,
        end: s.end,
        value: copyAggregate(s.value),
        version: s.version,
        emitted: s.emitted === null ? null : copyAggregate(s.emitted),
        sinceEmit: s.sinceEmit,
        fired: s.fired,
        retired: false,
      };
      this.#open.set(id, state);
      this.#byEnd.push(state);
      if (!state.fired) this.#unfired.push(state);
    }
  }
}

function finiteOrNull(time: number): number | null {
  return Number.isFinite(time) ? time : null;
}

function optionalTime(time: unknown, name: string): number {
  if (time === null) return -Infinity;
  if (typeof time !== 'number' || !Number.isSafeInteger(time)) throw invalidSnapshot(`${name} is not an integer or null`);
  return time;
}

function isAggregate(v: unknown): v is WindowAggregate {
  if (v === null || typeof v !== 'object') return false;
  const a = v as Record<string, unknown>;
  return (
    typeof a.count === 'number' &&
    typeof a.sum === 'number' &&
    typeof a.min === 'number' &&
    typeof a.max === 'number'
  );
}

function isWindowStateSnapshot(v: unknown): v is WindowStateSnapshot {
  if (v === null || typeof v !== 'object') return false;
  const s = v as Record<string, unknown>;
  return (
    typeof s.key === 'string' &&
    Number.isSafeInteger(s.start) &&
    Number.isSafeInteger(s.end) &&
    isAggregate(s.value) &&
    Number.isSafeInteger(s.version) &&
    (s.version as number) >= 0 &&
    (s.emitted === null ? s.version === 0 : isAggregate(s.emitted) && (s.version as number) > 0) &&
    Number.isSafeInteger(s.sinceEmit) &&
    typeof s.fired === 'boolean'
  );
}
