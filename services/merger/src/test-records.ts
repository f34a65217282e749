// Test helper: records as the workers write them to convoy.processed, built by hand (not with the
// envelope codec) so the tests do not share code with what they check.
import type { ConvoyRecord, OutgoingRecord, RecordHeaders } from '@convoy/kafka';
import type { RecordSink } from './merger-handler.ts';

export const INPUT = 'convoy.processed';
export const SOURCE = 'convoy.input/0';

function headers(text: Record<string, string | number | undefined>): RecordHeaders {
  const out: RecordHeaders = {};
  for (const [k, v] of Object.entries(text)) if (v !== undefined) out[k] = Buffer.from(String(v));
  return out;
}

export class InputLog {
  readonly records: ConvoyRecord[] = [];
  readonly partition: number;

  constructor(partition = 0) {
    this.partition = partition;
  }

  #append(key: string | null, value: string | null, h: RecordHeaders): ConvoyRecord {
    const record: ConvoyRecord = {
      topic: INPUT,
      partition: this.partition,
      offset: this.records.length,
      timestamp: 1_000 + this.records.length,
      key: key === null ? null : Buffer.from(key),
      value: value === null ? null : Buffer.from(value),
      headers: h,
    };
    this.records.push(record);
    return record;
  }

  data(seq: number, sub: number, options: { prev?: number; source?: string; extra?: Record<string, string> } = {}): ConvoyRecord {
    return this.#append(`c${seq}`, `v${seq}`, {
      ...headers({
        'convoy-kind': 'data',
        'convoy-seq': seq,
        'convoy-prev': options.prev ?? (seq > 0 ? seq - 1 : undefined),
        'convoy-source': options.source ?? SOURCE,
        'convoy-event-time': 5_000 + seq,
        'convoy-substream': sub,
        'convoy-epoch': 0,
      }),
      ...headers(options.extra ?? {}),
    });
  }

  filler(seq: number, sub: number): ConvoyRecord {
    return this.#append(null, null, headers({ 'convoy-kind': 'filler', 'convoy-seq': seq, 'convoy-source': SOURCE, 'convoy-substream': sub }));
  }

  marker(upTo: number, sub: number, subStreams = 2, extra: Record<string, string | number> = {}): ConvoyRecord {
    return this.#append(null, null, {
      ...headers({
        'convoy-kind': 'progress',
        'convoy-seq': upTo,
        'convoy-source': SOURCE,
        'convoy-substream': sub,
        'convoy-epoch': 0,
        'convoy-substreams': subStreams,
      }),
      ...headers(extra),
    });
  }

  raw(h: Record<string, string>): ConvoyRecord {
    return this.#append('k', 'v', headers(h));
  }
}

export class CollectingSink implements RecordSink {
  readonly records: OutgoingRecord[] = [];

  send(record: OutgoingRecord): void {
    this.records.push(record);
  }

  /** `topic:seq` for data, `topic:late:seq` for late, `dlq:<code>` for dead letters; then cleared. */
  take(): string[] {
    const out = this.records.map((r) => {
      const h = (name: string) => r.headers?.[name]?.toString();
      if (h('convoy-error-code') !== undefined) return `${r.topic}:${h('convoy-error-code')}`;
      return `${r.topic}:${h('convoy-late') === 'true' ? 'late:' : ''}${h('convoy-seq')}`;
    });
    this.records.length = 0;
    return out;
  }
}
