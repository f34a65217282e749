import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { BlockCounter, COUNTER_INVALID_COUNT, COUNTER_NOT_RESERVED } from './block-counter.ts';

test('a fresh counter reserves a whole block before handing out 1', () => {
  const c = new BlockCounter({ blockSize: 100, maxCount: 1000, reservedUpTo: 0 });
  assert.equal(c.reservationFor(1), 100);
  assert.throws(() => c.allocate(1), { code: COUNTER_NOT_RESERVED });
  c.confirmReserved(100);
  assert.deepEqual(c.allocate(1), { first: 1, last: 1 });
  assert.deepEqual(c.allocate(3), { first: 2, last: 4 });
  assert.equal(c.reservationFor(96), undefined);
  assert.equal(c.reservationFor(97), 200);
  assert.equal(c.reservationFor(250), 300); // 5..254 needs two more blocks
  assert.equal(c.lastHandedOut, 4);
});

test('after a restart the counter resumes above the durable bound, skipping the unused rest of the block', () => {
  const c = new BlockCounter({ blockSize: 100, maxCount: 1000, reservedUpTo: 300 });
  assert.equal(c.lastHandedOut, 300);
  assert.equal(c.reservationFor(1), 400);
  c.confirmReserved(400);
  assert.deepEqual(c.allocate(5), { first: 301, last: 305 });
});

test('bad counts are refused with a code', () => {
  const c = new BlockCounter({ blockSize: 10, maxCount: 50, reservedUpTo: 0 });
  for (const bad of [0, -1, 51, 1.5, Number.NaN]) assert.throws(() => c.reservationFor(bad), { code: COUNTER_INVALID_COUNT });
});

test('property: across crashes at any point, no number is handed out twice and numbers increase', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 20 }),
      fc.array(fc.oneof(fc.record({ count: fc.integer({ min: 1, max: 30 }) }), fc.constant('crash' as const), fc.constant('crash-mid-write' as const)), { maxLength: 60 }),
      (blockSize, steps) => {
        let durable = 0; // the log's highest value
        let counter = new BlockCounter({ blockSize, maxCount: 30, reservedUpTo: durable });
        const seen = new Set<number>();
        let last = 0;
        for (const step of steps) {
          if (step === 'crash') {
            counter = new BlockCounter({ blockSize, maxCount: 30, reservedUpTo: durable });
            continue;
          }
          if (step === 'crash-mid-write') {
            // The write may have landed, the process died before handing anything out.
            const bound = counter.reservationFor(1);
            if (bound !== undefined) durable = Math.max(durable, bound);
            counter = new BlockCounter({ blockSize, maxCount: 30, reservedUpTo: durable });
            continue;
          }
          const bound = counter.reservationFor(step.count);
          if (bound !== undefined) {
            durable = Math.max(durable, bound);
            counter.confirmReserved(bound);
          }
          const { first, last: end } = counter.allocate(step.count);
          assert.equal(end - first + 1, step.count);
          assert.ok(first > last, `${first} after ${last}`);
          assert.ok(end <= durable);
          for (let n = first; n <= end; n++) {
            assert.ok(!seen.has(n), `number ${n} handed out twice`);
            seen.add(n);
          }
          last = end;
        }
      },
    ),
    { numRuns: 200 },
  );
});
