import { invalidOption, requirePositiveInteger } from './validate.ts';

/** A window covers event times in the half-open interval [start, end). */
export interface WindowBounds {
  readonly start: number;
  readonly end: number;
}

/**
 * Assigns an event time to every window that contains it, oldest (smallest start) first.
 * Contract: each returned window satisfies start <= eventTime < end, and all windows of one
 * assigner have the same length.
 */
export interface WindowAssigner {
  readonly size: number;
  readonly slide: number;
  readonly offset: number;
  assignWindows(eventTime: number): WindowBounds[];
}

export interface HoppingWindowOptions {
  /** Window length in ms. */
  size: number;
  /** Distance between consecutive window starts in ms; 0 < slide <= size. */
  slide: number;
  /** Shifts window starts: starts are offset + k·slide. |offset| < slide. Default 0. */
  offset?: number;
}

export interface TumblingWindowOptions {
  size: number;
  offset?: number;
}

/** Start of the latest window containing `eventTime`: eventTime − ((eventTime − offset) mod slide), as in Flink. */
export function latestWindowStart(eventTime: number, slide: number, offset = 0): number {
  const remainder = (((eventTime - offset) % slide) + slide) % slide;
  return eventTime - remainder;
}

/**
 * Hopping (Flink: sliding) windows: an event at t falls into every window [start, start + size)
 * with start = offset + k·slide and start <= t < start + size (size / slide windows when the slide
 * divides the size).
 * A slide larger than the size is refused: events in the gaps would belong to no window.
 */
export function hoppingWindows(options: HoppingWindowOptions): WindowAssigner {
  const size = requirePositiveInteger('size', options.size);
  const slide = requirePositiveInteger('slide', options.slide);
  const offset = options.offset ?? 0;
  if (slide > size) throw invalidOption('slide', slide, `an integer in 1..size (${size})`);
  if (!Number.isSafeInteger(offset) || Math.abs(offset) >= slide) {
    throw invalidOption('offset', offset, `an integer with |offset| < slide (${slide})`);
  }
  return {
    size,
    slide,
    offset,
    assignWindows(eventTime: number): WindowBounds[] {
      const windows: WindowBounds[] = [];
      const last = latestWindowStart(eventTime, slide, offset);
      let first = last;
      while (first - slide > eventTime - size) first -= slide;
      for (let start = first; start <= last; start += slide) windows.push({ start, end: start + size });
      return windows;
    },
  };
}

/** Tumbling windows: hopping windows whose slide equals their size, so each event is in exactly one. */
export function tumblingWindows(options: TumblingWindowOptions): WindowAssigner {
  const opts: HoppingWindowOptions = { size: options.size, slide: options.size };
  if (options.offset !== undefined) opts.offset = options.offset;
  return hoppingWindows(opts);
}
