// Relative until libs/ordering/package.json declares "@convoy/errors": "workspace:*" (then import by name).
import { ConvoyError } from '@convoy/errors';
import { MinHeap } from './min-heap.ts';
import { invalidOption, latePolicyResolver, nonNegativeOr, oneOf, positiveIntegerOr, type LatePolicyOptions } from './options.ts';
import { SkippedRanges } from './skipped-ranges.ts';
import type {
  FillOutcome,
  InsertOutcome,
  LatePolicy,
  ReorderOutput,
  SequenceOverflowPolicy,
  SuspectedDropCause,
} from './types.ts';

/**
 * An event in sequence mode. `seq` is a safe integer (a dense counter or a source offset). `prev`
 * links to the predecessor seq (default `seq - 1`, i.e. dense); with offsets it skips seqs that
 * never carry data (transaction markers). `bytes` is the caller's size estimate for the byte cap.
 */
export interface SequencedEvent {
  readonly seq: number;
  readonly prev?: number;
  readonly bytes?: number;
}

/** An explicit filler: `seq` was dropped upstream. Any extra fields (e.g. input offset) are kept. */
export interface SequenceFiller {
  readonly seq: number;
  readonly prev?: number;
}

export interface SequenceReorderOptions extends LatePolicyOptions {
  /** Ms a gap may stay open, counted from when it was first observable; Infinity = only fillers/markers close gaps. */
  timeout: number;
  /** Max held events (fillers included) over all streams. Default 100 000. */
  capacity?: number;
  /** Max held bytes over all streams (sum of `bytes`). Default 64 MiB. */
  capacityBytes?: number;
  /** Default `force-oldest-gap`. */
  overflow?: SequenceOverflowPolicy;
  /** The first seq of a stream never seen nor resumed. Default 0. */
  firstSeq?: number;
  /** Skipped runs remembered per stream for late-vs-duplicate classification. Default 256. */
  lateRangeMemory?: number;
}

/** Every way out of the buffer, counted. Invariant once nothing is buffered: received = delivered + lateEmitted + lateRouted + lateDropped + duplicates + rejectedFull. */
export interface SequenceReorderCounters {
  received: number;
  delivered: number;
  /** Delivered straight from `insert` without being held. */
  deliveredFastPath: number;
  duplicates: number;
  lateEmitted: number;
  lateRouted: number;
  lateDropped: number;
  rejectedFull: number;
  fillersApplied: number;
  fillersIgnored: number;
  /** Fillers not accepted under back-pressure: still the caller's to retry. */
  fillersRejectedFull: number;
  gapsClosedByMarker: number;
  gapsClosedByTimeout: number;
  gapsClosedByOverflow: number;
  seqsSkippedByTimeout: number;
  seqsSkippedByOverflow: number;
  evicted: number;
}

class SeqNode<T> {
  readonly key: number;
  readonly order: number;
  readonly prev: number;
  readonly arrival: number;
  readonly bytes: number;
  readonly event: T | undefined;
  readonly filler: SequenceFiller | undefined;
  released = false;

  constructor(
    key: number,
    order: number,
    prev: number,
    arrival: number,
    bytes: number,
    event: T | undefined,
    filler: SequenceFiller | undefined,
  ) {
    this.key = key;
    this.order = order;
    this.prev = prev;
    this.arrival = arrival;
    this.bytes = bytes;
    this.event = event;
    this.filler = filler;
  }
}

class StreamState<T> {
  readonly name: string;
  readonly policy: LatePolicy;
  readonly heap = new MinHeap<SeqNode<T>>();
  readonly held = new Set<number>();
  readonly skipped: SkippedRanges;
  /** Held nodes in arrival order; released ones are skipped lazily. */
  fifo: SeqNode<T>[] = [];
  fifoHead = 0;
  lastReleased: number;
  order = 0;
  bytes = 0;

  constructor(name: string, policy: LatePolicy, lastReleased: number, lateRangeMemory: number) {
    this.name = name;
    this.policy = policy;
    this.lastReleased = lastReleased;
    this.skipped = new SkippedRanges(lateRangeMemory);
  }

  oldest(): SeqNode<T> | undefined {
    const fifo = this.fifo;
    while (this.fifoHead < fifo.length && (fifo[this.fifoHead] as SeqNode<T>).released) this.fifoHead++;
    if (this.fifoHead > 1024 && this.fifoHead * 2 > fifo.length) {
      this.fifo = fifo.slice(this.fifoHead);
      this.fifoHead = 0;
    }
    return this.fifo[this.fifoHead];
  }
}

/**
 * Re-sorts each stream by seq (Camel resequencer, stream mode) and hands events to a
 * `ReorderOutput` in exact seq order.
 *
 * Guarantees:
 * - Per stream, `deliver` sees strictly increasing seqs. An event is delivered as soon as every seq
 *   up to its `prev` is accounted for (released, filled, declared done by `markAllBefore`, or
 *   skipped).
 * - A gap is skipped without proof only when it has been observable for `timeout` ms (checked on
 *   `insert` for that stream and on `deliverExpired`) or when a full buffer forces it; the whole run
 *   is skipped in one step and reported through `suspectedDrop`.
 * - Every accepted event leaves exactly once (deliver / late / dropped). A `'rejected-full'` event
 *   was not accepted: the caller still owns it.
 * - Held events never exceed `capacity` / `capacityBytes` between calls.
 * Time is only what callers pass as `now`; arrivals must pass non-decreasing `now`.
 */
export class SequenceReorderBuffer<T extends SequencedEvent> {
  readonly #output: ReorderOutput<T>;
  readonly #timeout: number;
  readonly #capacity: number;
  readonly #capacityBytes: number;
  readonly #overflow: SequenceOverflowPolicy;
  readonly #firstSeq: number;
  readonly #lateRangeMemory: number;
  readonly #policyOf: (stream: string) => LatePolicy;
  readonly #streams = new Map<string, StreamState<T>>();
  /** Streams holding at least one event. */
  readonly #blocked = new Set<StreamState<T>>();
  readonly #counters: SequenceReorderCounters = {
    received: 0,
    delivered: 0,
    deliveredFastPath: 0,
    duplicates: 0,
    lateEmitted: 0,
    lateRouted: 0,
    lateDropped: 0,
    rejectedFull: 0,
    fillersApplied: 0,
    fillersIgnored: 0,
    fillersRejectedFull: 0,
    gapsClosedByMarker: 0,
    gapsClosedByTimeout: 0,
    gapsClosedByOverflow: 0,
    seqsSkippedByTimeout: 0,
    seqsSkippedByOverflow: 0,
    evicted: 0,
  };
  #size = 0;
  #bytes = 0;
  #lastName: string | undefined;
  #last: StreamState<T> | undefined;

  constructor(options: SequenceReorderOptions, output: ReorderOutput<T>) {
    this.#output = output;
    if (options.timeout === undefined) throw invalidOption('timeout', undefined, 'a number of ms >= 0 or Infinity');
    this.#timeout = nonNegativeOr('timeout', options.timeout, 0);
    this.#capacity = positiveIntegerOr('capacity', options.capacity, 100_000);
    this.#capacityBytes = nonNegativeOr('capacityBytes', options.capacityBytes, 64 * 1024 * 1024);
    this.#overflow = oneOf('overflow', options.overflow, ['force-oldest-gap', 'back-pressure'], 'force-oldest-gap');
    this.#firstSeq = options.firstSeq ?? 0;
    if (!Number.isSafeInteger(this.#firstSeq)) throw invalidSeq('firstSeq', this.#firstSeq);
    this.#lateRangeMemory = positiveIntegerOr('lateRangeMemory', options.lateRangeMemory, 256);
    this.#policyOf = latePolicyResolver(options);
  }

  /** Live counters (read-only view). */
  get counters(): Readonly<SequenceReorderCounters> {
    return this.#counters;
  }

  /** Held entries (events and fillers) over all streams. */
  get size(): number {
    return this.#size;
  }

  /** Held bytes over all streams. */
  get bytes(): number {
    return this.#bytes;
  }

  sizeOf(stream: string): number {
    return this.#streams.get(stream)?.held.size ?? 0;
  }

  bytesOf(stream: string): number {
    return this.#streams.get(stream)?.bytes ?? 0;
  }

  /** Highest seq accounted for on `stream` (released, filled or skipped); undefined if never seen. */
  lastReleased(stream: string): number | undefined {
    return this.#streams.get(stream)?.lastReleased;
  }

  /** The held entry that arrived first on `stream`: the shell must not commit input past it. */
  oldestBuffered(stream: string): T | SequenceFiller | undefined {
    const node = this.#streams.get(stream)?.oldest();
    return node === undefined ? undefined : (node.event ?? node.filler);
  }

  policyOf(stream: string): LatePolicy {
    return this.#state(stream).policy;
  }

  /**
   * Offers one event. Delivered at once when it is next (the fast path, no heap), otherwise held;
   * behind the floor it is a duplicate or late. Also skips this stream's gaps whose timeout passed.
   */
  insert(stream: string, event: T, now: number): InsertOutcome {
    const st = this.#state(stream);
    const seq = event.seq;
    const prev = event.prev ?? seq - 1;
    const c = this.#counters;
    c.received++;
    if (seq <= st.lastReleased) return this.#behind(st, event, seq);
    if (st.heap.size === 0) {
      if (prev <= st.lastReleased) {
        st.lastReleased = seq;
        c.delivered++;
        c.deliveredFastPath++;
        this.#output.deliver(st.name, event);
        return 'delivered';
      }
    } else {
      if (st.held.has(seq)) return this.#duplicate(st, event);
      if (prev <= st.lastReleased) {
        st.lastReleased = seq;
        c.delivered++;
        this.#output.deliver(st.name, event);
        this.#drain(st);
        this.#expire(st, now);
        return 'delivered';
      }
    }
    const bytes = event.bytes ?? 0;
    if (!this.#hasRoom(bytes)) {
      c.rejectedFull++;
      return 'rejected-full';
    }
    this.#hold(st, new SeqNode<T>(seq, st.order++, prev, now, bytes, event, undefined));
    this.#expire(st, now);
    return 'buffered';
  }

  /** An explicit filler: `filler.seq` was dropped upstream; it closes its gap without any output. */
  fill(stream: string, filler: SequenceFiller, now: number): FillOutcome {
    const st = this.#state(stream);
    const seq = filler.seq;
    const prev = filler.prev ?? seq - 1;
    const c = this.#counters;
    if (seq <= st.lastReleased || st.held.has(seq)) {
      if (seq <= st.lastReleased) st.skipped.take(seq);
      c.fillersIgnored++;
      return 'ignored';
    }
    if (prev <= st.lastReleased) {
      st.lastReleased = seq;
      c.fillersApplied++;
      this.#drain(st);
      this.#expire(st, now);
      return 'applied';
    }
    if (!this.#hasRoom(0)) {
      c.fillersRejectedFull++;
      return 'rejected-full';
    }
    this.#hold(st, new SeqNode<T>(seq, st.order++, prev, now, 0, undefined, filler));
    this.#expire(st, now);
    return 'buffered';
  }

  /**
   * "All before `n` processed": every seq < n was either inserted already or dropped upstream.
   * Releases everything held below n in order, moves the floor to n - 1 and keeps releasing.
   * Each run of seqs passed over without an event counts as one `gapsClosedByMarker`.
   */
  markAllBefore(stream: string, n: number): void {
    const st = this.#state(stream);
    if (n - 1 <= st.lastReleased) return;
    const heap = st.heap;
    for (let node = heap.peek(); node !== undefined && node.key < n; node = heap.peek()) {
      heap.pop();
      if (node.prev > st.lastReleased) this.#counters.gapsClosedByMarker++;
      this.#release(st, node);
    }
    if (n - 1 > st.lastReleased) {
      this.#counters.gapsClosedByMarker++;
      st.lastReleased = n - 1;
    }
    this.#drain(st);
  }

  /** Skips, on every stream, the gaps that have been observable for `timeout` ms by `now`. */
  deliverExpired(now: number): void {
    if (this.#timeout === Number.POSITIVE_INFINITY) return;
    for (const st of this.#blocked) this.#expire(st, now);
  }

  /** The earliest `now` at which `deliverExpired` will skip a gap; undefined when none is pending. */
  nextDeadline(): number | undefined {
    if (this.#timeout === Number.POSITIVE_INFINITY) return undefined;
    let min = Number.POSITIVE_INFINITY;
    for (const st of this.#blocked) {
      const node = st.oldest();
      if (node !== undefined && node.arrival < min) min = node.arrival;
    }
    return min === Number.POSITIVE_INFINITY ? undefined : min + this.#timeout;
  }

  /**
   * Seeds a stream after a restart with the last seq released before it (from a changelog or the
   * output topic). Throws if the stream already holds events.
   */
  resume(stream: string, lastReleasedSeq: number): void {
    if (!Number.isSafeInteger(lastReleasedSeq)) throw invalidSeq('lastReleasedSeq', lastReleasedSeq);
    const st = this.#state(stream);
    if (st.held.size > 0) {
      throw new ConvoyError('ORDERING_RESUME_CONFLICT', `stream ${stream} already holds ${st.held.size} events`, {
        context: { stream, lastReleasedSeq },
      });
    }
    st.lastReleased = lastReleasedSeq;
    st.skipped.clear();
  }

  /**
   * Forgets a stream (e.g. its partition was revoked) and hands back its held events, undelivered
   * and in arrival order: they are the caller's again (typically re-consumed by the new owner).
   */
  evict(stream: string): (T | SequenceFiller)[] {
    const st = this.#streams.get(stream);
    if (st === undefined) return [];
    const out: (T | SequenceFiller)[] = [];
    const nodes = st.heap.drain().sort((a, b) => a.order - b.order);
    for (const node of nodes) out.push(node.event ?? (node.filler as SequenceFiller));
    this.#size -= nodes.length;
    this.#bytes -= st.bytes;
    this.#counters.evicted += nodes.length;
    this.#blocked.delete(st);
    this.#streams.delete(stream);
    if (this.#last === st) {
      this.#last = undefined;
      this.#lastName = undefined;
    }
    return out;
  }

  #state(stream: string): StreamState<T> {
    if (stream === this.#lastName) return this.#last as StreamState<T>;
    let st = this.#streams.get(stream);
    if (st === undefined) {
      st = new StreamState<T>(stream, this.#policyOf(stream), this.#firstSeq - 1, this.#lateRangeMemory);
      this.#streams.set(stream, st);
    }
    this.#lastName = stream;
    this.#last = st;
    return st;
  }

  #behind(st: StreamState<T>, event: T, seq: number): InsertOutcome {
    if (!st.skipped.take(seq)) return this.#duplicate(st, event);
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
    return 'late';
  }

  #duplicate(st: StreamState<T>, event: T): InsertOutcome {
    this.#counters.duplicates++;
    this.#output.dropped(st.name, event, 'duplicate');
    return 'duplicate';
  }

  /** Makes room for one more entry; false only under back-pressure. */
  #hasRoom(bytes: number): boolean {
    if (this.#size + 1 <= this.#capacity && this.#bytes + bytes <= this.#capacityBytes) return true;
    if (this.#overflow === 'back-pressure') {
      // An entry larger than the whole byte cap would be rejected forever: accept it, then force.
      return this.#size === 0;
    }
    return true;
  }

  #hold(st: StreamState<T>, node: SeqNode<T>): void {
    if (st.heap.size === 0) this.#blocked.add(st);
    st.heap.push(node);
    st.held.add(node.key);
    st.fifo.push(node);
    st.bytes += node.bytes;
    this.#size++;
    this.#bytes += node.bytes;
    while (this.#size > this.#capacity || this.#bytes > this.#capacityBytes) this.#forceOldestGap();
  }

  #forceOldestGap(): void {
    let victim: StreamState<T> | undefined;
    let oldest = Number.POSITIVE_INFINITY;
    for (const st of this.#blocked) {
      const node = st.oldest() as SeqNode<T>;
      if (victim === undefined || node.arrival < oldest) {
        victim = st;
        oldest = node.arrival;
      }
    }
    if (victim !== undefined) this.#skipHeadGap(victim, 'overflow');
  }

  #expire(st: StreamState<T>, now: number): void {
    const timeout = this.#timeout;
    for (;;) {
      const node = st.heap.size === 0 ? undefined : st.oldest();
      if (node === undefined || now < node.arrival + timeout) return;
      this.#skipHeadGap(st, 'timeout');
    }
  }

  #skipHeadGap(st: StreamState<T>, cause: SuspectedDropCause): void {
    const head = st.heap.peek() as SeqNode<T>;
    const from = st.lastReleased + 1;
    const to = head.prev;
    const c = this.#counters;
    if (cause === 'timeout') {
      c.gapsClosedByTimeout++;
      c.seqsSkippedByTimeout += to - from + 1;
    } else {
      c.gapsClosedByOverflow++;
      c.seqsSkippedByOverflow += to - from + 1;
    }
    st.skipped.add(from, to);
    st.lastReleased = to;
    this.#output.suspectedDrop(st.name, from, to, cause);
    this.#drain(st);
  }

  #drain(st: StreamState<T>): void {
    const heap = st.heap;
    for (let node = heap.peek(); node !== undefined && node.prev <= st.lastReleased; node = heap.peek()) {
      heap.pop();
      this.#release(st, node);
    }
  }

  #release(st: StreamState<T>, node: SeqNode<T>): void {
    node.released = true;
    st.held.delete(node.key);
    st.bytes -= node.bytes;
    this.#size--;
    this.#bytes -= node.bytes;
    st.lastReleased = node.key;
    if (st.heap.size === 0) {
      this.#blocked.delete(st);
      st.fifo = [];
      st.fifoHead = 0;
    }
    if (node.event === undefined) this.#counters.fillersApplied++;
    else {
      this.#counters.delivered++;
      this.#output.deliver(st.name, node.event);
    }
  }
}

function invalidSeq(name: string, value: number): ConvoyError {
  return new ConvoyError('ORDERING_INVALID_INPUT', `${name} must be a safe integer, got ${String(value)}`, {
    context: { input: name, value },
  });
}
