import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { TokenBucket } from './token-bucket.ts';

test('starts full, refills at the rate, never beyond capacity', () => {
  const bucket = new TokenBucket({ ratePerSecond: 200 }, 1_000);
  assert.equal(bucket.capacity, 20);
  assert.equal(bucket.take(50, 1_000), 20);
  assert.equal(bucket.take(50, 1_000), 0);
  assert.equal(bucket.msUntil(1, 1_000), 5);
  assert.equal(bucket.take(50, 1_004), 0); // 0.8 of a token
  assert.equal(bucket.take(50, 1_005), 1);
  assert.equal(bucket.msUntil(10, 1_005), 50);
  assert.equal(bucket.take(3, 1_100), 3); // 19.2 accrued, 3 asked
  assert.equal(bucket.available(1_100), 16);
  assert.equal(bucket.available(60_000), 20);
  assert.equal(bucket.msUntil(20, 60_000), 0);
});

test('a clock that steps back grants nothing extra', () => {
  const bucket = new TokenBucket({ ratePerSecond: 10, capacity: 5 }, 1_000);
  assert.equal(bucket.take(5, 1_000), 5);
  assert.equal(bucket.take(5, 500), 0);
  assert.equal(bucket.take(5, 1_100), 1);
});

test('property: over [start, t] at most capacity + rate × t tokens are granted, and a greedy taker gets no fewer than rate × t', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 5_000 }), fc.array(fc.integer({ min: 0, max: 200 }), { minLength: 1, maxLength: 200 }), (rate, steps) => {
      const bucket = new TokenBucket({ ratePerSecond: rate }, 0);
      let now = 0;
      let granted = bucket.take(Number.MAX_SAFE_INTEGER, now);
      for (const step of steps) {
        now += step;
        granted += bucket.take(Number.MAX_SAFE_INTEGER, now);
        assert.ok(granted <= bucket.capacity + (rate * now) / 1000 + 1e-9);
      }
      // Greedy taking never lets the bucket fill, so nothing was lost: only the fraction remains.
      if (steps.every((s) => (s * rate) / 1000 <= bucket.capacity - 1)) assert.ok(granted >= bucket.capacity + (rate * now) / 1000 - 1);
    }),
  );
});
