import type { OutgoingRecord } from '@convoy/kafka';
import { type GeneratedEvent, type Order, OrderGenerator } from './generator.ts';
import { TokenBucket } from './token-bucket.ts';

export interface TrafficOptions {
  topic: string;
  /** Events per second; 0 = unlimited. */
  rate: number;
  /** Stop after this many events; undefined = until aborted. */
  count?: number;
  /** Records per `send`. */
  maxBatch: number;
}

export interface TrafficDeps {
  generator: OrderGenerator;
  /** Value bytes of a well-formed order (JSON, or registry-framed Avro). */
  encode(order: Order): Buffer | Promise<Buffer>;
  send(records: readonly OutgoingRecord[]): Promise<void>;
  now(): number;
  /** Resolves after `ms`, or early when `signal` aborts. */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
  /** Called after each successful send with the events it carried. */
  onSent?(events: readonly GeneratedEvent[]): void;
}

/** The record for one generated event: key = customer ID, timestamp = event time. */
export async function toRecord(topic: string, event: GeneratedEvent, encode: TrafficDeps['encode']): Promise<OutgoingRecord> {
  const value = event.order === undefined ? (event.raw ?? null) : await encode(event.order);
  return { topic, key: event.key, value, timestamp: event.timestamp };
}

/**
 * Produces generated events at `rate` (token bucket on `deps.now`) in batches of up to `maxBatch`,
 * until `count` is reached or `signal` aborts; a batch in flight is finished first. Returns the
 * number of events sent. A failed send rejects (the caller decides whether to retry or stop).
 */
export async function runTraffic(options: TrafficOptions, deps: TrafficDeps, signal: AbortSignal): Promise<number> {
  const bucket = options.rate > 0 ? new TokenBucket({ ratePerSecond: options.rate }, deps.now()) : undefined;
  let sent = 0;
  while (!signal.aborted && (options.count === undefined || sent < options.count)) {
    const want = Math.min(options.maxBatch, options.count === undefined ? options.maxBatch : options.count - sent);
    const n = bucket === undefined ? want : bucket.take(want, deps.now());
    if (n === 0) {
      // Wait for a whole batch's worth (at most the bucket's burst), so sends stay batched.
      await deps.sleep(Math.max(1, bucket!.msUntil(want, deps.now())), signal);
      continue;
    }
    const at = deps.now();
    const events: GeneratedEvent[] = [];
    for (let i = 0; i < n; i++) events.push(deps.generator.next(at));
    const records = await Promise.all(events.map((e) => toRecord(options.topic, e, deps.encode)));
    await deps.send(records);
    sent += n;
    deps.onSent?.(events);
  }
  return sent;
}
