import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { KSlack } from './k-slack.ts';

function feed(s: KSlack, times: number[]): number[] {
  return times.map((t) => {
    s.observe(t, 1);
    return s.slack;
  });
}

test('K grows to the largest delay observed and never shrinks', () => {
  const s = new KSlack();
  // clk: 10, 10(d=3), 20, 20(d=15), 20(d=2), 30, 30(d=1)
  assert.deepEqual(feed(s, [10, 7, 20, 5, 18, 30, 29]), [0, 3, 3, 15, 15, 15, 15]);
  assert.equal(s.clock, 30);
  assert.equal(s.maxDelay, 15);
});

test('in-order input (including equal timestamps) keeps K at 0', () => {
  const s = new KSlack();
  assert.deepEqual(feed(s, [1, 2, 2, 3, 10, 10, 11]), [0, 0, 0, 0, 0, 0, 0]);
});

test('K is capped by maxK while the true max delay is still tracked', () => {
  const s = new KSlack({ maxK: 5 });
  assert.deepEqual(feed(s, [100, 98, 50, 99]), [0, 2, 5, 5]);
  assert.equal(s.maxDelay, 50);
});

test('KSlack rejects a negative maxK', () => {
  assert.throws(() => new KSlack({ maxK: -1 }), { code: 'ORDERING_INVALID_OPTION' });
});

test('property: K = min(maxK, max over prefix of (running max − ts))', () => {
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 0, max: 1000 }), { minLength: 1, maxLength: 200 }),
      fc.integer({ min: 0, max: 1200 }),
      (times, maxK) => {
        const s = new KSlack({ maxK });
        let clk = Number.NEGATIVE_INFINITY;
        let expected = 0;
        let previous = 0;
        for (const t of times) {
          if (clk !== Number.NEGATIVE_INFINITY) expected = Math.max(expected, clk - t);
          clk = Math.max(clk, t);
          s.observe(t, 1);
          assert.equal(s.slack, Math.min(maxK, expected));
          assert.ok(s.slack >= previous);
          previous = s.slack;
        }
      },
    ),
    { numRuns: 200 },
  );
});
