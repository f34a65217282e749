import { AlphaController } from './alpha-controller.ts';
import { coverageThreshold, type QualityAggregate } from './coverage-threshold.ts';
import { twoSidedZ } from './inverse-normal.ts';
import type { SlackEstimator } from './slack-estimator.ts';
import {
  invalidOption,
  requireMaxK,
  requireNonNegative,
  requireOpenUnit,
  requirePositive,
  requirePositiveInteger,
} from './validate.ts';

/**
 * How the downstream window operator treats a tuple that arrives behind the buffer's watermark.
 * - `excluded`: the reorder buffer flags/routes/drops it, so it is missing from every window
 *   (the default; this is what an in-order released stream gives).
 * - `forwardedToOpenWindows`: it still counts for windows that have not closed yet.
 */
export type LateTupleTreatment = 'excluded' | 'forwardedToOpenWindows';

export interface AqKSlackOptions {
  /** ε: relative-error threshold of each window result, in (0, 1), e.g. 0.01. */
  errorThreshold: number;
  /** δ: probability that a window result meets ε, in (0, 1), e.g. 0.95. */
  confidence: number;
  aggregate: QualityAggregate;
  /** Query window length in event-time units. Windows are aligned: [j·slide, j·slide + size). */
  windowSize: number;
  /** Query window slide in event-time units. Default: windowSize (tumbling). */
  windowSlide?: number;
  /** Upper bound on K. Default: Infinity. */
  maxK?: number;
  /** Number of recent delays kept for the quantile (ring buffer). Default 1024. */
  delaySampleSize?: number;
  /** Settled windows whose statistics (N̂, μ̂, σ̂²) feed θ_thr. Default 8. */
  statsWindows?: number;
  /** Cap on windows tracked for coverage; beyond it the oldest is settled early (counted). Default 1024. */
  maxTrackedWindows?: number;
  /** Cap on control steps one observation may trigger; further closed windows are skipped (counted). Default 8. */
  maxStepsPerObservation?: number;
  /** Proportional gain on α. Default 0.2 (see DEFAULT_KP). */
  kp?: number;
  /** Derivative gain on α. Default 0 (see DEFAULT_KD). */
  kd?: number;
  /** Lower clamp for α. Default 0.5. */
  alphaMin?: number;
  /** Starting α. Default: 1 until the first θ_thr is known, then α = θ_thr. */
  initialAlpha?: number;
  lateTuples?: LateTupleTreatment;
}

/** Runtime state of the control loop, for metrics. */
export interface AqKSlackDiagnostics {
  /** Target in-time tuple fraction; K is this quantile of recent delays. */
  readonly alpha: number;
  /** Set point: coverage needed for relErr ≤ ε at confidence δ (NaN until the first window settles). */
  readonly thetaThreshold: number;
  /** Coverage of the most recently settled window (NaN until then). */
  readonly thetaMeasured: number;
  readonly k: number;
  /** Control steps run (one per closed query window). */
  readonly controlSteps: number;
  /** Closed windows for which no step ran because one observation closed too many at once. */
  readonly skippedSteps: number;
  /** Windows settled and measured. */
  readonly settledWindows: number;
  /** Windows settled early because `maxTrackedWindows` was reached. */
  readonly evictedWindows: number;
  /** (tuple, window) memberships ignored because the window was already settled. */
  readonly untrackedMemberships: number;
  /** Observations whose value was not a finite number: counted for coverage, left out of μ̂ and σ̂². */
  readonly nonFiniteValues: number;
}

// Tuned on the quality experiment (bench/quality-experiment.ts): Siddhi's kp = 0.5, kd = 0.8
// oscillate, because the measured coverage lags by the settling horizon (the largest recent delay)
// and one window's coverage is noisy; the derivative term amplifies that noise. A pure
// proportional step on α (an integrator on K's quantile level) was best on both traces.
const DEFAULT_KP = 0.2;
const DEFAULT_KD = 0;

interface WindowTally {
  count: number;
  covered: number;
  valued: number;
  sum: number;
  sumSq: number;
}

/**
 * AQ-K-slack (Ji et al., DEBS'15), as reconstructed in docs/ordering/slack-and-watermarks.md:
 * K is the α-quantile of recent delays, and a PD controller moves α so that the measured
 * coverage of settled query windows tracks θ_thr, the coverage that keeps the window aggregate's
 * relative error ≤ ε with confidence δ.
 *
 * Guarantees: 0 ≤ slack ≤ maxK; in-order input keeps slack at 0; all state is bounded
 * (delay ring of `delaySampleSize`, ≤ `maxTrackedWindows` windows, `statsWindows` statistics);
 * a delay influences K only while it is among the last `delaySampleSize` delays.
 * It does not guarantee the error bound: that is the control objective, measured in the quality
 * experiment (libs/ordering/bench/quality-experiment.ts).
 */
export class AqKSlack implements SlackEstimator {
  readonly #epsilon: number;
  readonly #z: number;
  readonly #aggregate: QualityAggregate;
  readonly #size: number;
  readonly #slide: number;
  readonly #maxK: number;
  readonly #statsWindows: number;
  readonly #maxTracked: number;
  readonly #maxSteps: number;
  readonly #late: LateTupleTreatment;
  readonly #controller: AlphaController;
  #alphaFromThreshold: boolean;

  readonly #delays: Float64Array;
  #delayCount = 0;
  #delayNext = 0;

  readonly #windows = new Map<number, WindowTally>();
  /** Windows with a lower index are settled; memberships in them are ignored. */
  #firstOpenWindow = Number.NEGATIVE_INFINITY;

  readonly #statCount: Float64Array;
  readonly #statValued: Float64Array;
  readonly #statSum: Float64Array;
  readonly #statSumSq: Float64Array;
  #statFilled = 0;
  #statNext = 0;

  #clock = Number.NEGATIVE_INFINITY;
  #k = 0;
  #nextResultEnd = Number.NaN;
  #thetaThreshold = Number.NaN;
  #thetaMeasured = Number.NaN;
  #controlSteps = 0;
  #skippedSteps = 0;
  #settledWindows = 0;
  #evictedWindows = 0;
  #untracked = 0;
  #nonFinite = 0;

  constructor(options: AqKSlackOptions) {
    this.#epsilon = requireOpenUnit('errorThreshold', options.errorThreshold);
    this.#z = twoSidedZ(requireOpenUnit('confidence', options.confidence));
    if (!['count', 'sum', 'avg'].includes(options.aggregate)) {
      throw invalidOption('aggregate', options.aggregate, "'count' | 'sum' | 'avg'");
    }
    this.#aggregate = options.aggregate;
    this.#size = requirePositive('windowSize', options.windowSize);
    this.#slide = requirePositive('windowSlide', options.windowSlide ?? options.windowSize);
    if (this.#slide > this.#size) {
      throw invalidOption('windowSlide', this.#slide, 'a number in (0, windowSize]');
    }
    this.#maxK = requireMaxK(options.maxK ?? Number.POSITIVE_INFINITY);
    this.#delays = new Float64Array(requirePositiveInteger('delaySampleSize', options.delaySampleSize ?? 1024));
    this.#statsWindows = requirePositiveInteger('statsWindows', options.statsWindows ?? 8);
    this.#statCount = new Float64Array(this.#statsWindows);
    this.#statValued = new Float64Array(this.#statsWindows);
    this.#statSum = new Float64Array(this.#statsWindows);
    this.#statSumSq = new Float64Array(this.#statsWindows);
    this.#maxTracked = requirePositiveInteger('maxTrackedWindows', options.maxTrackedWindows ?? 1024);
    this.#maxSteps = requirePositiveInteger('maxStepsPerObservation', options.maxStepsPerObservation ?? 8);
    const late = options.lateTuples ?? 'excluded';
    if (late !== 'excluded' && late !== 'forwardedToOpenWindows') {
      throw invalidOption('lateTuples', late, "'excluded' | 'forwardedToOpenWindows'");
    }
    this.#late = late;
    if (options.initialAlpha !== undefined) requireNonNegative('initialAlpha', options.initialAlpha);
    this.#alphaFromThreshold = options.initialAlpha === undefined;
    const controllerOptions: ConstructorParameters<typeof AlphaController>[0] = {
      kp: options.kp ?? DEFAULT_KP,
      kd: options.kd ?? DEFAULT_KD,
    };
    if (options.alphaMin !== undefined) controllerOptions.alphaMin = options.alphaMin;
    if (options.initialAlpha !== undefined) controllerOptions.initialAlpha = options.initialAlpha;
    this.#controller = new AlphaController(controllerOptions);
  }

  get slack(): number {
    return this.#k;
  }

  /** The z used for confidence δ: Φ⁻¹((1+δ)/2). */
  get z(): number {
    return this.#z;
  }

  get diagnostics(): AqKSlackDiagnostics {
    return {
      alpha: this.#controller.alpha,
      thetaThreshold: this.#thetaThreshold,
      thetaMeasured: this.#thetaMeasured,
      k: this.#k,
      controlSteps: this.#controlSteps,
      skippedSteps: this.#skippedSteps,
      settledWindows: this.#settledWindows,
      evictedWindows: this.#evictedWindows,
      untrackedMemberships: this.#untracked,
      nonFiniteValues: this.#nonFinite,
    };
  }

  observe(eventTime: number, value: number): void {
    const watermarkAtArrival = this.#clock - this.#k;
    const first = this.#clock === Number.NEGATIVE_INFINITY;
    const delay = first ? 0 : Math.max(0, this.#clock - eventTime);
    this.#delays[this.#delayNext] = delay;
    this.#delayNext = (this.#delayNext + 1) % this.#delays.length;
    if (this.#delayCount < this.#delays.length) this.#delayCount++;
    if (eventTime > this.#clock) this.#clock = eventTime;
    if (first) this.#nextResultEnd = this.#firstWindowIndex(eventTime) * this.#slide + this.#size;

    const finite = typeof value === 'number' && Number.isFinite(value);
    if (!finite) this.#nonFinite++;
    this.#tally(eventTime, finite ? value : Number.NaN, watermarkAtArrival);
    this.#runControlSteps();
  }

  /** Lowest index j with eventTime in [j·slide, j·slide + size). */
  #firstWindowIndex(eventTime: number): number {
    return Math.floor((eventTime - this.#size) / this.#slide) + 1;
  }

  #tally(eventTime: number, value: number, watermarkAtArrival: number): void {
    const last = Math.floor(eventTime / this.#slide);
    const inTime = eventTime >= watermarkAtArrival;
    for (let j = this.#firstWindowIndex(eventTime); j <= last; j++) {
      if (j < this.#firstOpenWindow) {
        this.#untracked++;
        continue;
      }
      let w = this.#windows.get(j);
      if (w === undefined) {
        if (this.#windows.size >= this.#maxTracked) this.#evictOldest();
        if (j < this.#firstOpenWindow) {
          this.#untracked++;
          continue;
        }
        w = { count: 0, covered: 0, valued: 0, sum: 0, sumSq: 0 };
        this.#windows.set(j, w);
      }
      const covered =
        this.#late === 'excluded' ? inTime : watermarkAtArrival < j * this.#slide + this.#size;
      w.count++;
      if (covered) w.covered++;
      if (Number.isNaN(value)) continue;
      w.valued++;
      w.sum += value;
      w.sumSq += value * value;
    }
  }

  #evictOldest(): void {
    let oldest = Number.POSITIVE_INFINITY;
    for (const j of this.#windows.keys()) if (j < oldest) oldest = j;
    const w = this.#windows.get(oldest);
    if (w === undefined) return;
    this.#windows.delete(oldest);
    this.#firstOpenWindow = oldest + 1;
    this.#evictedWindows++;
    this.#settle(w);
  }

  #runControlSteps(): void {
    let steps = 0;
    while (this.#nextResultEnd <= this.#clock - this.#k) {
      if (steps === this.#maxSteps) {
        const watermark = this.#clock - this.#k;
        const beyond = Math.floor((watermark - this.#size) / this.#slide) + 1;
        const skipTo = beyond * this.#slide + this.#size;
        this.#skippedSteps += Math.round((skipTo - this.#nextResultEnd) / this.#slide);
        this.#nextResultEnd = skipTo;
        break;
      }
      this.#controlStep();
      this.#nextResultEnd += this.#slide;
      steps++;
    }
  }

  /** One step per query window result: settle old windows, update θ_thr, α and K. */
  #controlStep(): void {
    this.#controlSteps++;
    const sorted = this.#delays.slice(0, this.#delayCount).sort();
    const horizon = sorted.length > 0 ? (sorted[sorted.length - 1] ?? 0) : 0;
    const settleBefore = this.#clock - Math.max(horizon, this.#k);

    let newest: number | undefined;
    const ready: number[] = [];
    for (const j of this.#windows.keys()) {
      if (j * this.#slide + this.#size <= settleBefore) ready.push(j);
    }
    ready.sort((a, b) => a - b);
    for (const j of ready) {
      const w = this.#windows.get(j);
      this.#windows.delete(j);
      if (j + 1 > this.#firstOpenWindow) this.#firstOpenWindow = j + 1;
      if (w !== undefined && w.count > 0) newest = this.#settle(w);
    }

    if (newest !== undefined && !Number.isNaN(this.#thetaThreshold)) {
      if (this.#alphaFromThreshold) {
        this.#alphaFromThreshold = false;
        this.#controller.reset(this.#thetaThreshold);
      } else {
        this.#controller.step(this.#thetaThreshold, newest);
      }
    }
    this.#k = Math.min(this.#maxK, quantile(sorted, this.#controller.alpha));
  }

  /** Records a settled window's coverage and statistics; returns its coverage. */
  #settle(w: WindowTally): number {
    this.#settledWindows++;
    const theta = w.count === 0 ? 1 : w.covered / w.count;
    this.#thetaMeasured = theta;
    this.#statCount[this.#statNext] = w.count;
    this.#statValued[this.#statNext] = w.valued;
    this.#statSum[this.#statNext] = w.sum;
    this.#statSumSq[this.#statNext] = w.sumSq;
    this.#statNext = (this.#statNext + 1) % this.#statsWindows;
    if (this.#statFilled < this.#statsWindows) this.#statFilled++;
    this.#updateThreshold();
    return theta;
  }

  #updateThreshold(): void {
    let n = 0;
    let valued = 0;
    let sum = 0;
    let sumSq = 0;
    for (let i = 0; i < this.#statFilled; i++) {
      n += this.#statCount[i] ?? 0;
      valued += this.#statValued[i] ?? 0;
      sum += this.#statSum[i] ?? 0;
      sumSq += this.#statSumSq[i] ?? 0;
    }
    if (n === 0) return;
    const mean = valued === 0 ? 0 : sum / valued;
    const variance = valued === 0 ? 0 : Math.max(0, sumSq / valued - mean * mean);
    this.#thetaThreshold = coverageThreshold(this.#aggregate, this.#epsilon, this.#z, {
      tuplesPerWindow: n / this.#statFilled,
      mean,
      variance,
    });
  }
}

/** Nearest-rank α-quantile of an ascending sample (0 for an empty sample). */
export function quantile(sortedAscending: ArrayLike<number>, alpha: number): number {
  const n = sortedAscending.length;
  if (n === 0) return 0;
  // The epsilon keeps e.g. 0.8 · 1000 from rounding up to rank 801.
  const rank = Math.min(n, Math.max(1, Math.ceil(alpha * n - 1e-9)));
  return sortedAscending[rank - 1] ?? 0;
}
