// Relative until libs/ordering/package.json declares "@convoy/errors": "workspace:*" (then import by name).
import { ConvoyError } from '@convoy/errors';
import { positiveIntegerOr } from '../reorder/options.ts';
import {
  SequenceReorderBuffer,
  type SequenceFiller,
  type SequenceReorderCounters,
  type SequenceReorderOptions,
  type SequencedEvent,
} from '../reorder/sequence-reorder-buffer.ts';
import type { FillOutcome, InsertOutcome, ReorderOutput } from '../reorder/types.ts';

/**
 * "Sub-stream `subStream` of epoch `epoch` has processed every event of this source up to seq
 * `upTo`", sent in position: everything that sub-stream forwarded before the marker arrived first.
 * `subStreams` and `epochStart` describe the epoch; they are needed the first time an epoch other
 * than the initial one is seen (epoch 0 defaults to `options.subStreams` sub-streams, from the
 * beginning of the source).
 */
export interface ProgressMarker {
  readonly subStream: number;
  readonly upTo: number;
  readonly epoch?: number;
  readonly subStreams?: number;
  readonly epochStart?: number;
}

export interface ConvoyMergeOptions extends SequenceReorderOptions {
  /** Sub-stream count of epoch 0. */
  subStreams: number;
}

export interface ConvoyMergeCounters extends SequenceReorderCounters {
  markers: number;
  /** Markers of an epoch already complete and retired: ignored. */
  staleMarkers: number;
  epochsStarted: number;
  epochsRetired: number;
}

class EpochProgress {
  readonly epoch: number;
  /** First seq this epoch's sub-streams govern; -Infinity for an epoch governing from the beginning. */
  readonly start: number;
  readonly progress: number[];

  constructor(epoch: number, start: number, count: number) {
    this.epoch = epoch;
    this.start = start;
    this.progress = new Array<number>(count).fill(start - 1);
  }

  minProgress(): number {
    let min = Number.POSITIVE_INFINITY;
    for (const p of this.progress) if (p < min) min = p;
    return min;
  }
}

class SourceProgress {
  /** Ascending by epoch and by start. */
  readonly epochs: EpochProgress[] = [];
  floor = Number.NEGATIVE_INFINITY;
  retiredThrough = Number.NEGATIVE_INFINITY;
}

/**
 * Re-merges the sub-streams of each source partition into exact source order.
 *
 * Guarantees (on top of `SequenceReorderBuffer`'s):
 * - Per source, `deliver` sees strictly increasing seqs, each event at most once.
 * - A seq at or below the proven floor — the minimum progress over all sub-streams of the epoch
 *   that governs it — was dropped (filtered) if it has not arrived: the merge releases past it at
 *   once (`markAllBefore(floor + 1)`), counted in `gapsClosedByMarker`, never waiting for a timeout.
 * - The gap timeout is the last resort for a silent sub-stream (`gapsClosedByTimeout`); what
 *   arrives for a skipped seq afterwards follows the late policy.
 * - Epochs: epoch e's sub-streams govern seqs in [start_e, start_{e+1}); a later epoch's progress
 *   proves nothing below its start, so rescaling N → M never releases past events still owed by
 *   the old sub-streams. A completed epoch is retired; its late markers are ignored.
 */
export class ConvoyMerge<T extends SequencedEvent> {
  readonly #buffer: SequenceReorderBuffer<T>;
  readonly #subStreams: number;
  readonly #firstSeq: number;
  readonly #sources = new Map<string, SourceProgress>();
  #markers = 0;
  #staleMarkers = 0;
  #epochsStarted = 0;
  #epochsRetired = 0;

  constructor(options: ConvoyMergeOptions, output: ReorderOutput<T>) {
    this.#subStreams = positiveIntegerOr('subStreams', options.subStreams, Number.NaN);
    if (Number.isNaN(this.#subStreams)) throw invalid('subStreams', undefined, 'an integer > 0');
    this.#firstSeq = options.firstSeq ?? 0;
    this.#buffer = new SequenceReorderBuffer<T>(options, output);
  }

  get counters(): ConvoyMergeCounters {
    return {
      ...this.#buffer.counters,
      markers: this.#markers,
      staleMarkers: this.#staleMarkers,
      epochsStarted: this.#epochsStarted,
      epochsRetired: this.#epochsRetired,
    };
  }

  get size(): number {
    return this.#buffer.size;
  }

  get bytes(): number {
    return this.#buffer.bytes;
  }

  sizeOf(source: string): number {
    return this.#buffer.sizeOf(source);
  }

  lastReleased(source: string): number | undefined {
    return this.#buffer.lastReleased(source);
  }

  /** Highest seq proven accounted for by markers on `source`; -Infinity before any proof. */
  provenFloor(source: string): number {
    return this.#sources.get(source)?.floor ?? Number.NEGATIVE_INFINITY;
  }

  /** Held entry of `source` that arrived first: commit input offsets only below it. */
  oldestBuffered(source: string): T | SequenceFiller | undefined {
    return this.#buffer.oldestBuffered(source);
  }

  /** A data event of `source` from any sub-stream. */
  insert(source: string, event: T, now: number): InsertOutcome {
    return this.#buffer.insert(source, event, now);
  }

  /** A filler a worker sent for a seq it filtered. */
  fill(source: string, filler: SequenceFiller, now: number): FillOutcome {
    return this.#buffer.fill(source, filler, now);
  }

  /** A progress marker, applied at once: releases everything the new floor proves. */
  onProgress(source: string, marker: ProgressMarker): void {
    this.#markers++;
    const sp = this.#source(source);
    const epoch = this.#epoch(sp, marker);
    if (epoch === undefined) {
      this.#staleMarkers++;
      return;
    }
    if (!(Number.isInteger(marker.subStream) && marker.subStream >= 0 && marker.subStream < epoch.progress.length)) {
      throw invalid('marker.subStream', marker.subStream, `an integer in [0, ${epoch.progress.length}) for epoch ${epoch.epoch}`);
    }
    if (marker.upTo > (epoch.progress[marker.subStream] as number)) epoch.progress[marker.subStream] = marker.upTo;
    const floor = this.#floor(sp, source);
    if (floor > sp.floor) {
      sp.floor = floor;
      this.#buffer.markAllBefore(source, floor + 1);
    }
  }

  deliverExpired(now: number): void {
    this.#buffer.deliverExpired(now);
  }

  nextDeadline(): number | undefined {
    return this.#buffer.nextDeadline();
  }

  /** Seeds `source` after a restart with the last seq released before it. */
  resume(source: string, lastReleasedSeq: number): void {
    this.#buffer.resume(source, lastReleasedSeq);
    const sp = this.#source(source);
    if (lastReleasedSeq > sp.floor) sp.floor = lastReleasedSeq;
  }

  #source(source: string): SourceProgress {
    let sp = this.#sources.get(source);
    if (sp === undefined) {
      sp = new SourceProgress();
      this.#sources.set(source, sp);
    }
    return sp;
  }

  /** The epoch a marker belongs to, defined on first sight; undefined when already retired. */
  #epoch(sp: SourceProgress, marker: ProgressMarker): EpochProgress | undefined {
    const number = marker.epoch ?? 0;
    const epochs = sp.epochs;
    for (let i = epochs.length - 1; i >= 0; i--) {
      const e = epochs[i] as EpochProgress;
      if (e.epoch === number) return e;
      if (e.epoch < number) return this.#define(sp, i + 1, marker, number);
    }
    if (number <= sp.retiredThrough) return undefined;
    return this.#define(sp, 0, marker, number);
  }

  #define(sp: SourceProgress, index: number, marker: ProgressMarker, number: number): EpochProgress {
    const count = marker.subStreams ?? (number === 0 ? this.#subStreams : undefined);
    if (count === undefined || !(Number.isInteger(count) && count > 0)) {
      throw invalid('marker.subStreams', marker.subStreams, `an integer > 0 when epoch ${number} is first seen`);
    }
    let start = marker.epochStart;
    if (start === undefined) {
      if (index > 0) {
        throw invalid('marker.epochStart', undefined, `the first seq of epoch ${number} when it is first seen`);
      }
      start = Number.NEGATIVE_INFINITY;
    }
    const before = sp.epochs[index - 1];
    const after = sp.epochs[index];
    if ((before !== undefined && start <= before.start) || (after !== undefined && start >= after.start)) {
      throw invalid('marker.epochStart', start, `a seq between the starts of the neighbouring epochs of epoch ${number}`);
    }
    const epoch = new EpochProgress(number, start, count);
    sp.epochs.splice(index, 0, epoch);
    this.#epochsStarted++;
    return epoch;
  }

  /** The highest seq proven accounted for; retires epochs that are complete. */
  #floor(sp: SourceProgress, source: string): number {
    const epochs = sp.epochs;
    const first = epochs[0] as EpochProgress;
    const released = this.#buffer.lastReleased(source) ?? this.#firstSeq - 1;
    // Seqs below the first known epoch belong to an epoch never seen here: nothing is proven.
    if (first.start - 1 > released && first.start - 1 > sp.floor) return sp.floor;
    let floor = sp.floor;
    while (epochs.length > 0) {
      const e = epochs[0] as EpochProgress;
      const next = epochs[1];
      const end = next === undefined ? Number.POSITIVE_INFINITY : next.start;
      const min = Math.min(e.minProgress(), end - 1);
      if (min > floor) floor = min;
      // Complete once its whole range is proven: by its own markers, or by a floor from resume().
      if (next === undefined || floor < end - 1) break;
      epochs.shift();
      sp.retiredThrough = e.epoch;
      this.#epochsRetired++;
    }
    return floor;
  }
}

function invalid(name: string, value: unknown, accepts: string): ConvoyError {
  return new ConvoyError('ORDERING_INVALID_INPUT', `${name} must be ${accepts}, got ${String(value)}`, {
    context: { input: name, value },
  });
}
