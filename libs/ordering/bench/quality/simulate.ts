import { EventTimeReorderBuffer } from '../../src/reorder/event-time-reorder-buffer.ts';
import type { SlackEstimator } from '../../src/slack/slack-estimator.ts';
import type { TraceEvent } from './trace.ts';

export interface WindowQuery {
  /** Sliding window length and slide in event-time ms; windows are [j·slide, j·slide + size). */
  size: number;
  slide: number;
  /** Windows ending before this event time are warm-up and not scored. */
  warmUp: number;
}

export interface QualityResult {
  /** Mean / p99 of (arrival clock at release − own arrival), over events released by the slack rule. */
  meanLatency: number;
  p99Latency: number;
  /** Delivered in order (by the slack rule or the final flush) / all events. */
  inOrderFraction: number;
  /** Mean of K after each arrival. */
  meanK: number;
  maxK: number;
  /** Per-window relative error of COUNT / SUM over the in-order released stream vs exact. */
  count: ErrorSummary;
  sum: ErrorSummary;
  late: number;
  flushed: number;
}

export interface ErrorSummary {
  mean: number;
  p99: number;
  /** Share of scored windows with relErr ≤ threshold, per threshold given. */
  within: Record<string, number>;
}

function percentile(xs: Float64Array, p: number): number {
  if (xs.length === 0) return 0;
  const sorted = xs.slice().sort();
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] ?? 0;
}

/**
 * Replays a trace (arrival order) through libs/ordering's EventTimeReorderBuffer driven by
 * `estimator`. Processing is instantaneous, so the arrival clock is the arrival time of the event
 * being inserted; late events go to the late output (excluded from the windows).
 */
export function simulate(
  trace: readonly TraceEvent[],
  estimator: SlackEstimator,
  query: WindowQuery,
  thresholds: readonly number[],
): QualityResult {
  const n = trace.length;
  const latencies = new Float64Array(n);
  let released = 0;
  let now = 0;
  let flushing = false;
  let late = 0;
  let flushed = 0;
  let maxT = 0;
  for (const e of trace) if (e.eventTime > maxT) maxT = e.eventTime;
  const windows = Math.ceil(maxT / query.slide) + 1;
  const exactCount = new Float64Array(windows);
  const exactSum = new Float64Array(windows);
  const gotCount = new Float64Array(windows);
  const gotSum = new Float64Array(windows);
  const perWindow = (t: number, v: number, count: Float64Array, sum: Float64Array): void => {
    const first = Math.max(0, Math.floor((t - query.size) / query.slide) + 1);
    const last = Math.floor(t / query.slide);
    for (let j = first; j <= last; j++) {
      count[j]! += 1;
      sum[j]! += v;
    }
  };

  const buffer = new EventTimeReorderBuffer<TraceEvent>(
    {
      estimator,
      observedValue: (e) => e.value,
      capacity: 10_000_000,
      capacityBytes: Number.MAX_SAFE_INTEGER,
      defaultLatePolicy: 'route-late',
    },
    {
      deliver: (_stream, e) => {
        perWindow(e.eventTime, e.value, gotCount, gotSum);
        if (flushing) flushed++;
        else latencies[released++] = now - e.arrival;
      },
      late: () => {
        late++;
      },
      dropped: () => {
        late++;
      },
    },
  );

  let kSum = 0;
  let kMax = 0;
  for (const e of trace) {
    now = e.arrival;
    perWindow(e.eventTime, e.value, exactCount, exactSum);
    buffer.insert('s', e, now);
    const k = estimator.slack;
    kSum += k;
    if (k > kMax) kMax = k;
  }
  flushing = true;
  buffer.flush();

  const countErr: number[] = [];
  const sumErr: number[] = [];
  for (let j = 0; j < windows; j++) {
    const end = j * query.slide + query.size;
    if (end < query.warmUp || end > maxT) continue;
    const c = exactCount[j]!;
    if (c === 0) continue;
    countErr.push(Math.abs(gotCount[j]! - c) / c);
    sumErr.push(Math.abs(gotSum[j]! - exactSum[j]!) / exactSum[j]!);
  }
  const summarize = (errs: number[]): ErrorSummary => {
    const xs = Float64Array.from(errs);
    const within: Record<string, number> = {};
    for (const t of thresholds) within[String(t)] = errs.filter((e) => e <= t + 1e-12).length / errs.length;
    return { mean: errs.reduce((a, b) => a + b, 0) / errs.length, p99: percentile(xs, 0.99), within };
  };
  const lat = latencies.subarray(0, released);
  return {
    meanLatency: lat.reduce((a, b) => a + b, 0) / Math.max(1, released),
    p99Latency: percentile(lat, 0.99),
    inOrderFraction: (released + flushed) / n,
    meanK: kSum / n,
    maxK: kMax,
    count: summarize(countErr),
    sum: summarize(sumErr),
    late,
    flushed,
  };
}
