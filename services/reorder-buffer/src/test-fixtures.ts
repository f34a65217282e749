// Test-only: the reorder options the pure-handler tests start from.
import type { ReorderOptions } from './reorder-handler.ts';

/** Sequence mode, keyed by the record key, late records routed to `out.late`, nothing dropped. */
export function reorderOptions(over: Partial<ReorderOptions> = {}): ReorderOptions {
  return {
    mode: 'sequence',
    outputTopic: 'out',
    lateTopic: 'out.late',
    dlqTopic: 'dlq',
    streamKey: { kind: 'key' },
    seqSource: { kind: 'header', name: 'convoy-seq' },
    eventTimeSource: { kind: 'timestamp' },
    gapTimeoutMs: 100,
    idleFlushMs: 500,
    policyOf: () => 'route-late',
    neverDrop: () => false,
    capacity: 100,
    capacityBytes: 1_000_000,
    overflow: 'force-oldest',
    ...over,
  };
}
