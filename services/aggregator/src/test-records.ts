// Test-only builders of handler options and input records, and a collecting sink.
import type { ConvoyRecord, OutgoingRecord } from '@convoy/kafka';
import { tumblingWindows } from '@convoy/ordering';
import type { DispatchHandlerOptions, WindowHandlerOptions } from './aggregator-handler.ts';

export const INPUT = { topic: 'orders', partition: 0 } as const;

export const TOPICS = { outputTopic: 'out', lateTopic: 'out.late', dlqTopic: 'dlq', changelogTopic: 'cl', chunkBytes: 64 * 1024 };

/** Sums of `amount` per record key in 1-minute tumbling windows, event time from `convoy-event-time`. */
export function windowOptions(overrides: Partial<WindowHandlerOptions> = {}): WindowHandlerOptions {
  return {
    ...TOPICS,
    key: { kind: 'key' },
    valueField: 'amount',
    eventTime: { kind: 'header', name: 'convoy-event-time' },
    windows: tumblingWindows({ size: 60_000 }),
    allowedLateness: 30_000,
    maxOpenWindows: 100,
    overflow: 'retire-oldest',
    watermark: 'records',
    maxOutOfOrderMs: 0,
    ...overrides,
  };
}

/** Dispatch with the record timestamp as the default accept time. */
export function dispatchOptions(overrides: Partial<DispatchHandlerOptions> = {}): DispatchHandlerOptions {
  return { ...TOPICS, eventTime: { kind: 'timestamp' }, retention: 300_000, maxTrackedRequests: 100, overflow: 'expire-oldest', ...overrides };
}

export class Recorder {
  readonly sent: OutgoingRecord[] = [];
  send(record: OutgoingRecord): void {
    this.sent.push(record);
  }
  on(topic: string): OutgoingRecord[] {
    return this.sent.filter((r) => r.topic === topic);
  }
  values(topic: string): unknown[] {
    return this.on(topic).map((r) => JSON.parse(String(r.value)));
  }
  clear(): void {
    this.sent.length = 0;
  }
}

export class Input {
  #offset = 0;
  event(key: string | null, eventTime: number, value: Record<string, unknown> | string | null, headers: Record<string, string> = {}): ConvoyRecord {
    return this.#record(key, typeof value === 'string' || value === null ? value : JSON.stringify(value), {
      'convoy-event-time': String(eventTime),
      ...headers,
    });
  }
  order(region: string, eventTime: number, amount: number): ConvoyRecord {
    return this.event(region, eventTime, { region, amount });
  }
  watermark(value: number, header = 'convoy-watermark'): ConvoyRecord {
    return this.#record(null, null, { 'convoy-kind': 'watermark', [header]: String(value) });
  }
  raw(key: string | null, value: string | null, headers: Record<string, string>): ConvoyRecord {
    return this.#record(key, value, headers);
  }
  accept(requestId: string, driverId: string, requestTime: number, acceptTime: number): ConvoyRecord {
    return this.#record(requestId, JSON.stringify({ requestId, driverId, requestTime, acceptTime }), {});
  }
  #record(key: string | null, value: string | null, headers: Record<string, string>): ConvoyRecord {
    const offset = this.#offset++;
    return {
      topic: INPUT.topic,
      partition: INPUT.partition,
      offset,
      timestamp: 1_000_000 + offset,
      key: key === null ? null : Buffer.from(key),
      value: value === null ? null : Buffer.from(value),
      headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, Buffer.from(v)])),
    };
  }
}
