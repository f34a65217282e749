// Test-only: the splitter options the pure-handler tests start from.
import type { SplitterOptions } from './splitter-handler.ts';

/** Hash mode over 4 sub-streams, epoch 0, the record key and timestamp as sources, JSON payloads. */
export function splitterOptions(overrides: Partial<SplitterOptions> = {}): SplitterOptions {
  return {
    mode: 'hash',
    substreamsTopic: 'subs',
    substreams: 4,
    epoch: 0,
    dlqTopic: 'dlq',
    keySource: { kind: 'key' },
    eventTimeSource: { kind: 'timestamp' },
    maxValueBytes: 100,
    markerIntervalMs: 200,
    markerEveryEvents: 1000,
    markerIdleIntervalMs: 1000,
    decode: (value) => JSON.parse(value.toString('utf8')),
    ...overrides,
  };
}
