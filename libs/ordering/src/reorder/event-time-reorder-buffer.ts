import type { SlackEstimator } from '../slack/slack-estimator.ts';
import { MinHeap } from './min-heap.ts';
import { latePolicyResolver, nonNegativeOr, oneOf, positiveIntegerOr, type LatePolicyOptions } from './options.ts';
import type { EventTimeOverflowPolicy, LatePolicy, OrderedOutput } from './types.ts';

/** An event in event-time mode: `eventTime` in ms; `bytes` is the caller's size estimate for the byte cap. */
export interface TimedEvent {
  readonly eventTime: number;
  readonly bytes?: number;
}

export interface EventTimeReorderOptions<T> extends LatePolicyOptions {
  /**
   * Slack source, one estimator for all streams or one per stream (called once per new stream).
   * Without it, events are released only by `advanceWatermark`, `deliverIdle` or `flush`.
   */
  estimator?: SlackEstimator | ((stream: string) => SlackEstimator);
  /** The value passed to `estimator.observe`; default 1 (the stream is only counted). */
  observedValue?: (event: T) => number;
  /** Max held events over all streams. Default 100 000. */
  capacity?: number;
  /** Max held bytes over all streams. Default 64 MiB. */
  capacityBytes?: number;
  /** Default `force-release-oldest`. */
  overflow?: EventTimeOverflowPolicy;
  /** Release a stream's held events when nothing arrived on it for this many ms. Default: never. */
  idleFlushMs?: number;
}

/** Every way out, counted. Once nothing is held: received = delivered + lateEmitted + lateRouted + lateDropped + rejectedFull. */
export interface EventTimeReorderCounters {
  received: number;
  delivered: number;
  lateEmitted: number;
  lateRouted: number;
  lateDropped: number;
  rejectedFull: number;
  /** Released before the watermark passed them because the buffer was full. */
  forcedReleases: number;
  /** Released before the watermark passed them because their stream went idle. */
  idleFlushed: number;
  /** Released by an explicit `flush`. */
  flushed: number;
}

class TimedNode<T> {
  readonly key: number;
  readonly order: number;
  readonly bytes: number;
  readonly event: T;

  constructor(key: number, order: number, bytes: number, event: T) {
    this.key = key;
    this.order = order;
    this.bytes = bytes;
    this.event = event;
  }
}

class TimedStream<T> {
  readonly name: string;
  readonly policy: LatePolicy;
  readonly estimator: SlackEstimator | undefined;
  readonly heap = new MinHeap<TimedNode<T>>();
  clk = Number.NEGATIVE_INFINITY;
  watermark = Number.NEGATIVE_INFINITY;
  lastReleasedTime = Number.NEGATIVE_INFINITY;
  lastArrival = Number.NEGATIVE_INFINITY;
  order = 0;
  bytes = 0;

  constructor(name: string, policy: LatePolicy, estimator: SlackEstimator | undefined) {
    this.name = name;
    this.policy = policy;
    this.estimator = estimator;
  }
}

type ReleaseCause = 'watermark' | 'forced' | 'idle' | 'flush';

/**
 * Re-sorts each stream by event time and hands events to an `OrderedOutput` once the watermark
 * passes them.
 *
 * Guarantees:
 * - Per stream, `deliver` sees non-decreasing event times, ties in arrival order.
 * - An event is held until `eventTime <= watermark` (explicit, per stream or global) or
 *   `eventTime + slack <= clk` (clk = largest event time seen on the stream, slack read from the
 *   estimator after it observed the arrival) — or until forced out early by overflow, idleness or
 *   `flush`, each counted.
 * - An event older than the last one released on its stream is late and follows the stream's late
 *   policy; it is never delivered out of order.
 * - Held events never exceed `capacity` / `capacityBytes` between calls; every accepted event
 *   leaves exactly once.
 */
export class EventTimeReorderBuffer<T extends TimedEvent> {
  readonly #output: OrderedOutput<T>;
  readonly #estimatorOf: ((stream: string) => SlackEstimator) | undefined;
  readonly #observedValue: ((event: T) => number) | undefined;
  readonly #capacity: number;
  readonly #capacityBytes: number;
  readonly #overflow: EventTimeOverflowPolicy;
  readonly #idleFlushMs: number;
  readonly #policyOf: (stream: string) => LatePolicy;
  readonly #streams = new Map<string, TimedStream<T>>();
  readonly #holding = new Set<TimedStream<T>>();
  readonly #counters: EventTimeReorderCounters = {
    received: 0,
    delivered: 0,
    lateEmitted: 0,
    lateRouted: 0,
    lateDropped: 0,
    rejectedFull: 0,
    forcedReleases: 0,
    idleFlushed: 0,
    flushed: 0,
  };
  #globalWatermark = Number.NEGATIVE_INFINITY;
  #size = 0;
  #bytes = 0;

  constructor(options: EventTimeReorderOptions<T>, output: OrderedOutput<T>) {
    this.#output = output;
    const estimator = options.estimator;
    this.#estimatorOf = estimator === undefined ? undefined : typeof estimator === 'function' ? estimator : () => estimator;
    this.#observedValue = options.observedValue;
    this.#capacity = positiveIntegerOr('capacity', options.capacity, 100_000);
    this.#capacityBytes = nonNegativeOr('capacityBytes', options.capacityBytes, 64 * 1024 * 1024);
    this.#overflow = oneOf('overflow', options.overflow, ['force-release-oldest', 'back-pressure'], 'force-release-oldest');
    this.#idleFlushMs = nonNegativeOr('idleFlushMs', options.idleFlushMs, Number.POSITIVE_INFINITY);
    this.#policyOf = latePolicyResolver(options);
  }

  get counters(): Readonly<EventTimeReorderCounters> {
    return this.#counters;
  }

  get size(): number {
    return this.#size;
  }

  get bytes(): number {
    return this.#bytes;
  }

  sizeOf(stream: string): number {
    return this.#streams.get(stream)?.heap.size ?? 0;
  }

  /** Event time of the last event delivered on `stream`; events below it are late. */
  lastReleasedTime(stream: string): number | undefined {
    return this.#streams.get(stream)?.lastReleasedTime;
  }

  /** Offers one event: observed by the estimator, then late, delivered, held, or rejected when full under back-pressure. */
  insert(stream: string, event: T, now: number): 'delivered' | 'buffered' | 'late' | 'rejected-full' {
    const st = this.#state(stream);
    const c = this.#counters;
    c.received++;
    const t = event.eventTime;
    const bytes = event.bytes ?? 0;
    if (this.#overflow === 'back-pressure' && this.#size > 0 && !this.#fits(bytes)) {
      // The arrival still advances clk (it was seen), so a full buffer waiting on clk cannot deadlock.
      if (t > st.clk) {
        st.clk = t;
        this.#releaseReady(st);
      }
      const mustHold = t >= st.lastReleasedTime && !(st.heap.size === 0 && this.#releasable(st, t));
      if (mustHold && this.#size > 0 && !this.#fits(bytes)) {
        c.rejectedFull++;
        return 'rejected-full';
      }
    }
    st.lastArrival = now;
    st.estimator?.observe(t, this.#observedValue === undefined ? 1 : this.#observedValue(event));
    if (t > st.clk) st.clk = t;
    if (t < st.lastReleasedTime) {
      this.#late(st, event);
      return 'late';
    }
    if (st.heap.size === 0 && this.#releasable(st, t)) {
      st.lastReleasedTime = t;
      c.delivered++;
      this.#output.deliver(st.name, event);
      return 'delivered';
    }
    if (st.heap.size === 0) this.#holding.add(st);
    st.heap.push(new TimedNode(t, st.order++, bytes, event));
    st.bytes += bytes;
    this.#size++;
    this.#bytes += bytes;
    this.#releaseReady(st);
    while (this.#size > this.#capacity || this.#bytes > this.#capacityBytes) this.#forceOldest();
    return 'buffered';
  }

  /**
   * Explicit watermark: nothing at or below `watermark` will follow. Applies to one stream, or to
   * all streams when `stream` is omitted. Never moves backwards.
   */
  advanceWatermark(watermark: number, stream?: string): void {
    if (stream === undefined) {
      if (watermark <= this.#globalWatermark) return;
      this.#globalWatermark = watermark;
      for (const st of this.#holding) this.#releaseReady(st);
      return;
    }
    const st = this.#state(stream);
    if (watermark <= st.watermark) return;
    st.watermark = watermark;
    this.#releaseReady(st);
  }

  /** Releases, in order, every stream that has been silent for `idleFlushMs` by `now`. */
  deliverIdle(now: number): void {
    if (this.#idleFlushMs === Number.POSITIVE_INFINITY) return;
    for (const st of this.#holding) {
      if (now - st.lastArrival >= this.#idleFlushMs) this.#releaseAll(st, 'idle');
    }
  }

  /** The earliest `now` at which `deliverIdle` would release something; undefined when none. */
  nextDeadline(): number | undefined {
    if (this.#idleFlushMs === Number.POSITIVE_INFINITY) return undefined;
    let min = Number.POSITIVE_INFINITY;
    for (const st of this.#holding) if (st.lastArrival < min) min = st.lastArrival;
    return min === Number.POSITIVE_INFINITY ? undefined : min + this.#idleFlushMs;
  }

  /** Releases everything held (one stream or all), in order, e.g. at end of input or shutdown. */
  flush(stream?: string): void {
    if (stream !== undefined) {
      const st = this.#streams.get(stream);
      if (st !== undefined) this.#releaseAll(st, 'flush');
      return;
    }
    for (const st of this.#holding) this.#releaseAll(st, 'flush');
  }

  #state(stream: string): TimedStream<T> {
    let st = this.#streams.get(stream);
    if (st === undefined) {
      st = new TimedStream<T>(stream, this.#policyOf(stream), this.#estimatorOf?.(stream));
      this.#streams.set(stream, st);
    }
    return st;
  }

  #fits(bytes: number): boolean {
    return this.#size + 1 <= this.#capacity && this.#bytes + bytes <= this.#capacityBytes;
  }

  #releasable(st: TimedStream<T>, t: number): boolean {
    if (t <= st.watermark || t <= this.#globalWatermark) return true;
    return st.estimator !== undefined && t + st.estimator.slack <= st.clk;
  }

  #releaseReady(st: TimedStream<T>): void {
    for (let node = st.heap.peek(); node !== undefined && this.#releasable(st, node.key); node = st.heap.peek()) {
      this.#releaseHead(st, 'watermark');
    }
  }

  #releaseAll(st: TimedStream<T>, cause: ReleaseCause): void {
    while (st.heap.size > 0) this.#releaseHead(st, cause);
  }

  #forceOldest(): void {
    let victim: TimedStream<T> | undefined;
    let oldest = Number.POSITIVE_INFINITY;
    for (const st of this.#holding) {
      const key = (st.heap.peek() as TimedNode<T>).key;
      if (victim === undefined || key < oldest) {
        victim = st;
        oldest = key;
      }
    }
    if (victim !== undefined) this.#releaseHead(victim, 'forced');
  }

  #releaseHead(st: TimedStream<T>, cause: ReleaseCause): void {
    const node = st.heap.pop() as TimedNode<T>;
    st.bytes -= node.bytes;
    this.#size--;
    this.#bytes -= node.bytes;
    if (st.heap.size === 0) this.#holding.delete(st);
    st.lastReleasedTime = node.key;
    const c = this.#counters;
    c.delivered++;
    if (cause === 'forced') c.forcedReleases++;
    else if (cause === 'idle') c.idleFlushed++;
    else if (cause === 'flush') c.flushed++;
    this.#output.deliver(st.name, node.event);
  }

  #late(st: TimedStream<T>, event: T): void {
    const c = this.#counters;
    switch (st.policy) {
      case 'emit-flagged':
        c.lateEmitted++;
        this.#output.late(st.name, event, 'emit-flagged');
        break;
      case 'route-late':
        c.lateRouted++;
        this.#output.late(st.name, event, 'route-late');
        break;
      case 'drop':
        c.lateDropped++;
        this.#output.dropped(st.name, event, 'late');
        break;
    }
  }
}
