/** Aggregates AQ-K-slack knows how to bound. */
export type QualityAggregate = 'count' | 'sum' | 'avg';

/** Per-window statistics the threshold is derived from: tuples per query window and value moments. */
export interface WindowValueStats {
  /** N̂: tuples per query window (> 0). */
  readonly tuplesPerWindow: number;
  /** μ̂: mean value. */
  readonly mean: number;
  /** σ̂²: value variance (population). */
  readonly variance: number;
}

function clampUnit(x: number): number {
  if (Number.isNaN(x)) return 1;
  return Math.min(1, Math.max(0, x));
}

/**
 * Larger root of (1+c²)θ² − (2−2ε+c²)θ + (1−ε)² = 0, clamped to [0, 1].
 *
 * Derivation (reconstructed, see docs/ordering/slack-and-watermarks.md): in-time tuples are a
 * Bernoulli(θ) sample of the window; requiring S − S_obs ≤ εS at two-sided z gives
 * c²θ(1−θ) ≤ (θ − (1−ε))² with θ ≥ 1−ε, hence the larger root. The discriminant equals
 * c²(4(1−ε)ε + c²) ≥ 0, so a real root always exists.
 */
export function sumCoverageRoot(epsilon: number, c2: number): number {
  const u = 1 - epsilon;
  const a = 1 + c2;
  const b = 2 * u + c2;
  const disc = b * b - 4 * a * u * u;
  return clampUnit((b + Math.sqrt(Math.max(0, disc))) / (2 * a));
}

/**
 * θ_thr: the smallest expected window coverage (share of a window's tuples that arrive before it
 * closes) at which the aggregate over in-time tuples has relative error ≤ ε with confidence
 * given by z. Always in [0, 1]; 1 means no coverage short of complete suffices.
 *
 * - count: c² = z²/N̂.
 * - sum:   c² = z²(μ̂² + σ̂²)/(N̂μ̂²)  (μ̂ = 0 → 1: relative error of a zero sum is undefined).
 * - avg:   θ = 1/(1 + ε²N̂μ̂²/(z²σ̂²))  (σ̂² = 0 → 0: any non-empty sample has the exact mean).
 */
export function coverageThreshold(
  aggregate: QualityAggregate,
  epsilon: number,
  z: number,
  stats: WindowValueStats,
): number {
  const n = stats.tuplesPerWindow;
  if (!(n > 0)) return 1;
  const z2 = z * z;
  switch (aggregate) {
    case 'count':
      return sumCoverageRoot(epsilon, z2 / n);
    case 'sum': {
      const mu2 = stats.mean * stats.mean;
      if (mu2 === 0) return 1;
      return sumCoverageRoot(epsilon, (z2 * (mu2 + stats.variance)) / (n * mu2));
    }
    case 'avg': {
      if (stats.variance <= 0) return 0;
      if (z2 === 0) return 0;
      const ratio = (epsilon * epsilon * n * stats.mean * stats.mean) / (z2 * stats.variance);
      return clampUnit(1 / (1 + ratio));
    }
  }
}
