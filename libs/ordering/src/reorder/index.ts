export type {
  DropReason,
  EventTimeOverflowPolicy,
  FillOutcome,
  InsertOutcome,
  LatePolicy,
  OrderedOutput,
  ReorderOutput,
  SequenceOverflowPolicy,
  SuspectedDropCause,
} from './types.ts';
export type { LatePolicyOptions } from './options.ts';
export {
  SequenceReorderBuffer,
  type SequenceFiller,
  type SequenceReorderCounters,
  type SequenceReorderOptions,
  type SequencedEvent,
} from './sequence-reorder-buffer.ts';
export {
  EventTimeReorderBuffer,
  type EventTimeReorderCounters,
  type EventTimeReorderOptions,
  type TimedEvent,
} from './event-time-reorder-buffer.ts';
