import assert from 'node:assert/strict';
import { test } from 'node:test';
import { coverageThreshold, sumCoverageRoot } from './coverage-threshold.ts';

const Z95 = 1.9599639845400536;

function close(got: number, want: number, tol = 1e-12): void {
  assert.ok(Math.abs(got - want) < tol, `got ${got}, want ${want}`);
}

// Hand-computed (Python, closed-form larger root) reference values.
test('COUNT: larger root of the quadratic with c² = z²/N', () => {
  close(coverageThreshold('count', 0.01, Z95, { tuplesPerWindow: 1000, mean: 1, variance: 0 }), 0.9945592455544694);
  close(coverageThreshold('count', 0.05, Z95, { tuplesPerWindow: 100, mean: 1, variance: 0 }), 0.9784563208456318);
});

test('SUM: c² = z²(μ²+σ²)/(Nμ²)', () => {
  close(coverageThreshold('sum', 0.02, Z95, { tuplesPerWindow: 500, mean: 10, variance: 25 }), 0.9898316132083343);
});

test('AVG: θ = 1/(1 + ε²Nμ²/(z²σ²))', () => {
  close(coverageThreshold('avg', 0.01, Z95, { tuplesPerWindow: 1000, mean: 10, variance: 25 }), 0.9056928248251769);
});

test('the root solves θ − z·sqrt(θ(1−θ)/N) = 1 − ε (the bound it was derived from)', () => {
  for (const [eps, n] of [[0.01, 1000], [0.05, 50], [0.02, 10000]] as const) {
    const theta = coverageThreshold('count', eps, Z95, { tuplesPerWindow: n, mean: 1, variance: 0 });
    close(theta - Z95 * Math.sqrt((theta * (1 - theta)) / n), 1 - eps, 1e-12);
    assert.ok(theta > 1 - eps);
  }
});

test('variance matters: SUM needs more coverage than COUNT for the same N and ε', () => {
  const stats = { tuplesPerWindow: 500, mean: 10, variance: 400 };
  const count = coverageThreshold('count', 0.02, Z95, stats);
  const sum = coverageThreshold('sum', 0.02, Z95, stats);
  assert.ok(sum > count, `${sum} > ${count}`);
});

test('degenerate inputs clamp into [0, 1]', () => {
  assert.equal(coverageThreshold('count', 0.01, Z95, { tuplesPerWindow: 0, mean: 1, variance: 0 }), 1);
  assert.equal(coverageThreshold('sum', 0.01, Z95, { tuplesPerWindow: 10, mean: 0, variance: 1 }), 1);
  assert.equal(coverageThreshold('avg', 0.01, Z95, { tuplesPerWindow: 10, mean: 5, variance: 0 }), 0);
  // Tiny windows need (almost) everything.
  assert.ok(coverageThreshold('count', 0.01, Z95, { tuplesPerWindow: 2, mean: 1, variance: 0 }) > 0.9999);
  // c² = 0: exactly 1 − ε.
  close(sumCoverageRoot(0.03, 0), 0.97);
});
