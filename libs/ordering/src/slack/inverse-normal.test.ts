import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inverseNormalCdf, twoSidedZ } from './inverse-normal.ts';

// Reference quantiles from Python's statistics.NormalDist().inv_cdf (Wichura AS241, ~1e-16).
const REFERENCE: ReadonlyArray<readonly [number, number]> = [
  [0.5, 0],
  [0.975, 1.9599639845400536],
  [0.995, 2.5758293035489],
  [0.01, -2.3263478740408408],
  [0.9, 1.2815515655446008],
  [0.3, -0.5244005127080407],
  [0.02425, -1.9729610513118845],
  [1e-6, -4.753424308822899],
  [0.999999, 4.753424308817089],
];

test('inverseNormalCdf matches reference quantiles to 1e-8 in every region', () => {
  for (const [p, z] of REFERENCE) {
    const got = inverseNormalCdf(p);
    assert.ok(Math.abs(got - z) < 1e-8, `p=${p}: got ${got}, want ${z}`);
  }
});

test('inverseNormalCdf is antisymmetric and monotone', () => {
  let previous = Number.NEGATIVE_INFINITY;
  for (let i = 1; i < 1000; i++) {
    const p = i / 1000;
    const z = inverseNormalCdf(p);
    assert.ok(z > previous);
    assert.ok(Math.abs(z + inverseNormalCdf(1 - p)) < 1e-8);
    previous = z;
  }
});

test('inverseNormalCdf edges: 0 and 1 are infinite, outside [0,1] is NaN', () => {
  assert.equal(inverseNormalCdf(0), Number.NEGATIVE_INFINITY);
  assert.equal(inverseNormalCdf(1), Number.POSITIVE_INFINITY);
  assert.ok(Number.isNaN(inverseNormalCdf(-0.1)));
  assert.ok(Number.isNaN(inverseNormalCdf(1.1)));
});

test('twoSidedZ(0.95) = 1.96 and twoSidedZ(0.99) = 2.576', () => {
  assert.ok(Math.abs(twoSidedZ(0.95) - 1.9599639845400536) < 1e-8);
  assert.ok(Math.abs(twoSidedZ(0.99) - 2.5758293035489) < 1e-8);
});
