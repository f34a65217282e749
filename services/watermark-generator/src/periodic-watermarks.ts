import { encodeEnvelope, type OutgoingRecord } from '@convoy/kafka';

export type WatermarkMode = 'time' | 'logical';

/**
 * Time mode. Guarantee (given sources with synchronised clocks whose events reach Kafka at most
 * `maxOutOfOrderMs` after their event time): at `now`, no event with event time ≤
 * `now − maxOutOfOrderMs` will still be written. The watermark is that value; it never goes
 * backwards within one process (a clock stepping back repeats the last value).
 */
export class TimeWatermarks {
  readonly #maxOutOfOrderMs: number;
  #last = Number.NEGATIVE_INFINITY;

  constructor(maxOutOfOrderMs: number) {
    if (!Number.isFinite(maxOutOfOrderMs) || maxOutOfOrderMs < 0) throw new RangeError(`maxOutOfOrderMs ${maxOutOfOrderMs}: expected ≥ 0`);
    this.#maxOutOfOrderMs = maxOutOfOrderMs;
  }

  watermarkAt(now: number): number {
    this.#last = Math.max(this.#last, Math.floor(now - this.#maxOutOfOrderMs));
    return this.#last;
  }
}

interface Snapshot {
  readonly at: number;
  readonly lastHandedOut: number;
}

/**
 * Logical-clock mode. The caller records, at every tick, the highest counter number handed out
 * so far (`observe`). Guarantee: `watermarkAt(now)` is a number W such that every number ≤ W was
 * handed out at least `lagMs` before `now`. Under the documented assumption that a producer
 * writes its event within `lagMs` of taking its number, no event stamped ≤ W will still be
 * written: that is the watermark promise. Undefined until the first snapshot is `lagMs` old.
 * Non-decreasing. Bounded: at most `maxSnapshots` snapshots are kept (beyond that the oldest
 * not-yet-eligible ones are thinned, which only delays the watermark, never advances it wrongly).
 */
export class LogicalWatermarks {
  readonly #lagMs: number;
  readonly #maxSnapshots: number;
  #snapshots: Snapshot[] = [];
  #eligible: number | undefined;
  #thinned = 0;

  constructor(options: { lagMs: number; maxSnapshots?: number }) {
    if (!Number.isFinite(options.lagMs) || options.lagMs < 0) throw new RangeError(`lagMs ${options.lagMs}: expected ≥ 0`);
    this.#lagMs = options.lagMs;
    this.#maxSnapshots = Math.max(2, options.maxSnapshots ?? 4096);
  }

  /** Snapshots dropped because the bound was reached. */
  get thinned(): number {
    return this.#thinned;
  }

  /** At `now`, the highest number handed out so far is `lastHandedOut`. */
  observe(lastHandedOut: number, now: number): void {
    const previous = this.#snapshots.at(-1);
    const value = Math.max(lastHandedOut, previous?.lastHandedOut ?? Number.NEGATIVE_INFINITY);
    if (previous !== undefined && previous.at >= now) {
      // Same instant (or a clock step back): the newer value with the older time would claim too much.
      return;
    }
    this.#snapshots.push({ at: now, lastHandedOut: value });
    if (this.#snapshots.length > this.#maxSnapshots) {
      // Dropping the second keeps the oldest (the one about to become eligible) and the newest.
      this.#snapshots.splice(1, 1);
      this.#thinned++;
    }
  }

  watermarkAt(now: number): number | undefined {
    const horizon = now - this.#lagMs;
    while (this.#snapshots.length > 0 && this.#snapshots[0]!.at <= horizon) {
      const eligible = this.#snapshots.shift()!.lastHandedOut;
      this.#eligible = Math.max(this.#eligible ?? eligible, eligible);
    }
    return this.#eligible;
  }
}

/**
 * One watermark record per partition of each topic, key null, partition explicit. Time mode
 * carries `convoy-event-time`, logical mode `convoy-seq` (docs/wire-contract.md).
 */
export function watermarkRecords(partitions: ReadonlyMap<string, number>, mode: WatermarkMode, watermark: number, now: number): OutgoingRecord[] {
  const headers = encodeEnvelope(mode === 'time' ? { kind: 'watermark', eventTime: watermark } : { kind: 'watermark', seq: watermark });
  const out: OutgoingRecord[] = [];
  for (const [topic, count] of partitions) {
    for (let partition = 0; partition < count; partition++) {
      out.push({ topic, partition, key: null, value: null, headers: { ...headers }, timestamp: now });
    }
  }
  return out;
}
