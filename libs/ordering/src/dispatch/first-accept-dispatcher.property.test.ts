import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  FirstAcceptDispatcher,
  type DispatchOutput,
  type FirstAcceptDispatcherOptions,
  type RideAssignment,
  type RideCancellation,
} from './first-accept-dispatcher.ts';

interface Step {
  request: number;
  driver: number;
  advance: number;
}

const configArb = fc.record({
  retention: fc.integer({ min: 1, max: 200 }),
  maxTrackedRequests: fc.oneof(fc.integer({ min: 1, max: 5 }), fc.constant(1_000_000)),
  overflow: fc.constantFrom('expire-oldest' as const, 'reject-new' as const),
});
const stepArb = fc.record({
  request: fc.integer({ min: 0, max: 7 }),
  driver: fc.integer({ min: 0, max: 3 }),
  advance: fc.integer({ min: -10, max: 40 }),
});

type Record_ = { disposition: string; assignment?: RideAssignment; cancellation?: RideCancellation; tracked: number; now: number; maxNow: number };

/** Request k was made at time 20·⌊k/2⌋ (pairs share a time); accepts arrive at a `now` that mostly advances and sometimes steps back. */
const requestTime = (request: number) => 20 * (request >> 1);

function run(options: FirstAcceptDispatcherOptions, steps: Step[], cutAt = -1): Record_[] {
  let d = new FirstAcceptDispatcher(options);
  let now = 0;
  let maxNow = 0;
  return steps.map((s, i) => {
    if (i === cutAt) d = new FirstAcceptDispatcher(options, JSON.parse(JSON.stringify(d.snapshot())));
    now += s.advance;
    maxNow = Math.max(maxNow, now);
    const rec: Record_ = { disposition: '', tracked: 0, now, maxNow };
    const output: DispatchOutput = {
      emitAssignment: (a) => {
        assert.equal(rec.assignment ?? rec.cancellation, undefined);
        rec.assignment = a;
      },
      emitCancellation: (c) => {
        assert.equal(rec.assignment ?? rec.cancellation, undefined);
        rec.cancellation = c;
      },
    };
    rec.disposition = d.onAccept(
      { requestId: `r${s.request}`, driverId: `d${s.driver}`, requestTime: requestTime(s.request), acceptTime: now },
      now,
      output,
    );
    rec.tracked = d.trackedRequests;
    return rec;
  });
}

test('property: one assignment per request ever, to its first unrefused accepter; every accept answered once; cap holds', () => {
  fc.assert(
    fc.property(configArb, fc.array(stepArb, { maxLength: 80 }), (options, steps) => {
      const records = run(options, steps);
      const winner = new Map<string, string>();
      records.forEach((rec, i) => {
        const step = steps[i] as Step;
        const requestId = `r${step.request}`;
        const driverId = `d${step.driver}`;
        const expired = requestTime(step.request) + options.retention <= rec.maxNow;
        assert.ok(rec.tracked <= options.maxTrackedRequests);
        if (rec.disposition === 'assigned') {
          assert.ok(!winner.has(requestId), `second assignment for ${requestId}`);
          assert.ok(!expired);
          assert.deepEqual(rec.assignment, { requestId, driverId, requestTime: requestTime(step.request), acceptTime: rec.now });
          winner.set(requestId, driverId);
        } else if (rec.disposition === 'duplicate') {
          assert.equal(winner.get(requestId), driverId);
          assert.equal(rec.assignment ?? rec.cancellation, undefined);
        } else {
          assert.equal(rec.disposition, 'cancelled');
          const c = rec.cancellation;
          assert.ok(c !== undefined && c.requestId === requestId && c.driverId === driverId);
          if (c.reason === 'already-assigned') assert.ok(winner.has(requestId) && winner.get(requestId) !== driverId);
          if (expired) assert.equal(c.reason, 'expired');
          if (options.maxTrackedRequests === 1_000_000) {
            assert.notEqual(c.reason, 'overloaded');
            if (c.reason === 'expired') assert.ok(expired, 'expired only by time when nothing overflows');
          }
        }
        if (options.maxTrackedRequests === 1_000_000 && !expired) {
          assert.equal(rec.disposition === 'assigned' || rec.disposition === 'duplicate', !winner.has(requestId) || winner.get(requestId) === driverId);
        }
      });
    }),
    { numRuns: 500 },
  );
});

test('property: snapshot → JSON → restore at any point answers exactly as the uninterrupted dispatcher', () => {
  fc.assert(
    fc.property(configArb, fc.array(stepArb, { maxLength: 60 }), fc.nat(), (options, steps, cut) => {
      assert.deepEqual(run(options, steps, cut % (steps.length + 1)), run(options, steps));
    }),
    { numRuns: 300 },
  );
});
