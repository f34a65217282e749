/**
 * The routing state of one source partition (its epoch, the first seq the epoch governs, and its
 * sub-stream count), as stored in the splitter's compacted state topic. Pure encode/decode.
 */
import type { OutgoingRecord, TopicPartition } from '@convoy/kafka';

/** One routing epoch of a source partition. `start` undefined: it governs from the beginning. */
export interface RoutingEpoch {
  readonly epoch: number;
  readonly start?: number;
  readonly substreams: number;
}

/**
 * Routing state of a source partition: the current epoch, and the epoch it replaced (whose
 * sub-streams govern the seqs below `current.start`; its closing round says "up to start − 1").
 */
export interface RoutingState {
  readonly current: RoutingEpoch;
  readonly previous?: RoutingEpoch;
}

const VERSION = 1;

export function stateKey(source: TopicPartition): string {
  return `${source.topic}/${source.partition}`;
}

/** The state record of `source`: key `<topic>/<partition>`, JSON value, into partition = source partition. */
export function stateRecord(stateTopic: string, source: TopicPartition, state: RoutingState, now: number): OutgoingRecord {
  const epoch = (e: RoutingEpoch) => ({ epoch: e.epoch, start: e.start ?? null, substreams: e.substreams });
  return {
    topic: stateTopic,
    partition: source.partition,
    key: stateKey(source),
    value: JSON.stringify({ version: VERSION, current: epoch(state.current), previous: state.previous === undefined ? null : epoch(state.previous) }),
    timestamp: now,
  };
}

function epochOf(value: unknown): RoutingEpoch | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { epoch, start, substreams } = value as Record<string, unknown>;
  if (!Number.isSafeInteger(epoch) || (epoch as number) < 0) return undefined;
  if (!Number.isSafeInteger(substreams) || (substreams as number) < 1) return undefined;
  if (start !== null && (!Number.isSafeInteger(start) || (start as number) < 0)) return undefined;
  return start === null ? { epoch: epoch as number, substreams: substreams as number } : { epoch: epoch as number, start: start as number, substreams: substreams as number };
}

/** Decodes a state record value; undefined when it is not a valid state (it is then ignored). */
export function parseState(value: Buffer | null): RoutingState | undefined {
  if (value === null) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(value.toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof json !== 'object' || json === null || (json as { version?: unknown }).version !== VERSION) return undefined;
  const current = epochOf((json as { current?: unknown }).current);
  if (current === undefined) return undefined;
  const rawPrevious = (json as { previous?: unknown }).previous;
  if (rawPrevious === null || rawPrevious === undefined) return { current };
  const previous = epochOf(rawPrevious);
  if (previous === undefined || current.start === undefined || previous.epoch >= current.epoch) return undefined;
  return { current, previous };
}

/** The latest valid state of `source` among records of its state partition (offset order); undefined: none. */
export function latestState(records: readonly { key: Buffer | null; value: Buffer | null }[], source: TopicPartition): RoutingState | undefined {
  const key = stateKey(source);
  for (let i = records.length - 1; i >= 0; i--) {
    const record = records[i]!;
    if (record.key?.toString('utf8') !== key) continue;
    const state = parseState(record.value);
    if (state !== undefined) return state;
  }
  return undefined;
}
