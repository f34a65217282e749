import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  FirstAcceptDispatcher,
  type DispatchOutput,
  type DispatchSnapshot,
  type RideAssignment,
  type RideCancellation,
} from './first-accept-dispatcher.ts';

type Out = ['assign', RideAssignment] | ['cancel', RideCancellation];

function recorder(): { output: DispatchOutput; take(): Out[] } {
  const all: Out[] = [];
  return {
    output: {
      emitAssignment: (a) => all.push(['assign', a]),
      emitCancellation: (c) => all.push(['cancel', c]),
    },
    take: () => all.splice(0),
  };
}

const accept = (requestId: string, driverId: string, requestTime: number, acceptTime: number) => ({
  requestId,
  driverId,
  requestTime,
  acceptTime,
});

test('the first accept wins; every later accept by another driver is cancelled, addressed to that driver', () => {
  const out = recorder();
  const d = new FirstAcceptDispatcher({ retention: 60_000 });
  assert.equal(d.onAccept(accept('r1', 'alice', 1000, 1500), 1500, out.output), 'assigned');
  assert.equal(d.onAccept(accept('r1', 'bob', 1000, 1400), 1600, out.output), 'cancelled');
  assert.equal(d.onAccept(accept('r1', 'carol', 1000, 1700), 1700, out.output), 'cancelled');
  assert.equal(d.onAccept(accept('r2', 'bob', 1200, 1800), 1800, out.output), 'assigned');
  assert.deepEqual(out.take(), [
    ['assign', { requestId: 'r1', driverId: 'alice', requestTime: 1000, acceptTime: 1500 }],
    ['cancel', { requestId: 'r1', driverId: 'bob', acceptTime: 1400, reason: 'already-assigned' }],
    ['cancel', { requestId: 'r1', driverId: 'carol', acceptTime: 1700, reason: 'already-assigned' }],
    ['assign', { requestId: 'r2', driverId: 'bob', requestTime: 1200, acceptTime: 1800 }],
  ]);
});

test("the winner's repeated accept is a duplicate and produces nothing; a loser's repeat is cancelled again", () => {
  const out = recorder();
  const d = new FirstAcceptDispatcher({ retention: 60_000 });
  d.onAccept(accept('r1', 'alice', 0, 10), 10, out.output);
  d.onAccept(accept('r1', 'bob', 0, 11), 11, out.output);
  out.take();
  assert.equal(d.onAccept(accept('r1', 'alice', 0, 10), 20, out.output), 'duplicate');
  assert.deepEqual(out.take(), []);
  assert.equal(d.onAccept(accept('r1', 'bob', 0, 11), 21, out.output), 'cancelled');
  assert.deepEqual(out.take(), [['cancel', { requestId: 'r1', driverId: 'bob', acceptTime: 11, reason: 'already-assigned' }]]);
  assert.equal(d.stats.duplicates, 1);
});

test('decisions retire after the retention; any later accept of that request is answered expired, never reassigned', () => {
  const out = recorder();
  const d = new FirstAcceptDispatcher({ retention: 1000 });
  d.onAccept(accept('r1', 'alice', 0, 5), 5, out.output);
  d.onAccept(accept('r2', 'bob', 600, 605), 605, out.output);
  out.take();
  assert.equal(d.expire(999), 0);
  assert.equal(d.trackedRequests, 2);
  assert.equal(d.expire(1000), 1);
  assert.equal(d.trackedRequests, 1);
  assert.equal(d.onAccept(accept('r1', 'carol', 0, 990), 1001, out.output), 'cancelled');
  assert.equal(d.onAccept(accept('r1', 'alice', 0, 5), 1002, out.output), 'cancelled');
  assert.equal(d.onAccept(accept('r9', 'dave', 0, 10), 1003, out.output), 'cancelled');
  assert.deepEqual(
    out.take().map(([kind, x]) => [kind, x.requestId, x.driverId, 'reason' in x ? x.reason : '']),
    [
      ['cancel', 'r1', 'carol', 'expired'],
      ['cancel', 'r1', 'alice', 'expired'],
      ['cancel', 'r9', 'dave', 'expired'],
    ],
  );
  assert.equal(d.onAccept(accept('r2', 'erin', 600, 1200), 1200, out.output), 'cancelled');
  assert.equal(d.onAccept(accept('r3', 'erin', 900, 1200), 500, out.output), 'assigned');
  assert.equal(d.snapshot().now, 1200, 'now never moves back');
});

test('overflow expire-oldest retires the oldest decisions early and answers their stragglers expired', () => {
  const out = recorder();
  const d = new FirstAcceptDispatcher({ retention: 100_000, maxTrackedRequests: 2 });
  d.onAccept(accept('r1', 'a', 10, 11), 11, out.output);
  d.onAccept(accept('r2', 'b', 20, 21), 21, out.output);
  assert.equal(d.onAccept(accept('r3', 'c', 30, 31), 31, out.output), 'assigned');
  assert.equal(d.trackedRequests, 2);
  assert.equal(d.onAccept(accept('r1', 'x', 10, 40), 40, out.output), 'cancelled');
  assert.equal(d.onAccept(accept('r0', 'y', 5, 41), 41, out.output), 'cancelled');
  assert.equal(d.onAccept(accept('r4', 'z', 20, 42), 42, out.output), 'cancelled');
  assert.deepEqual(out.take().slice(3), [
    ['cancel', { requestId: 'r1', driverId: 'x', acceptTime: 40, reason: 'expired' }],
    ['cancel', { requestId: 'r0', driverId: 'y', acceptTime: 41, reason: 'expired' }],
    ['cancel', { requestId: 'r4', driverId: 'z', acceptTime: 42, reason: 'overloaded' }],
  ]);
  assert.equal(d.stats.decisionsRetiredByOverflow, 1);
});

test('overflow reject-new keeps tracked decisions and answers the newcomer overloaded', () => {
  const out = recorder();
  const d = new FirstAcceptDispatcher({ retention: 100, maxTrackedRequests: 1, overflow: 'reject-new' });
  d.onAccept(accept('r1', 'a', 0, 1), 1, out.output);
  assert.equal(d.onAccept(accept('r2', 'b', 50, 51), 51, out.output), 'cancelled');
  assert.equal(d.onAccept(accept('r2', 'c', 50, 101), 101, out.output), 'assigned');
  assert.deepEqual(
    out.take().map(([kind, x]) => [kind, x.requestId, x.driverId]),
    [
      ['assign', 'r1', 'a'],
      ['cancel', 'r2', 'b'],
      ['assign', 'r2', 'c'],
    ],
  );
});

test('snapshot → JSON → restore keeps every decision, the clock and the floor', () => {
  const options = { retention: 1000, maxTrackedRequests: 2 };
  const out = recorder();
  const before = new FirstAcceptDispatcher(options);
  before.onAccept(accept('r1', 'a', 10, 11), 11, out.output);
  before.onAccept(accept('r2', 'b', 20, 21), 21, out.output);
  before.onAccept(accept('r3', 'c', 30, 31), 31, out.output);
  const snapshot = JSON.parse(JSON.stringify(before.snapshot())) as DispatchSnapshot;
  assert.deepEqual(snapshot, {
    format: 1,
    retention: 1000,
    now: 31,
    expiredThrough: 10,
    decisions: [
      { requestId: 'r2', driverId: 'b', requestTime: 20, acceptTime: 21 },
      { requestId: 'r3', driverId: 'c', requestTime: 30, acceptTime: 31 },
    ],
  });
  out.take();
  const after = new FirstAcceptDispatcher(options, snapshot);
  assert.equal(after.onAccept(accept('r2', 'b', 20, 21), 40, out.output), 'duplicate');
  assert.equal(after.onAccept(accept('r3', 'x', 30, 41), 41, out.output), 'cancelled');
  assert.equal(after.onAccept(accept('r1', 'y', 10, 42), 42, out.output), 'cancelled');
  assert.deepEqual(
    out.take().map(([, x]) => ('reason' in x ? x.reason : 'assigned')),
    ['already-assigned', 'expired'],
  );
  assert.throws(() => new FirstAcceptDispatcher({ retention: 5 }, snapshot), { code: 'ORDERING_INVALID_SNAPSHOT' });
  assert.throws(() => new FirstAcceptDispatcher(options, { ...snapshot, decisions: [{}] } as unknown as DispatchSnapshot), {
    code: 'ORDERING_INVALID_SNAPSHOT',
  });
});

test('bad accepts and options throw coded errors without counting', () => {
  const out = recorder();
  const d = new FirstAcceptDispatcher({ retention: 10 });
  assert.throws(() => d.onAccept(accept('r', 'a', 1.5, 2), 2, out.output), { code: 'ORDERING_INVALID_INPUT' });
  assert.throws(() => d.onAccept(accept('r', 'a', 1, 2), Number.NaN, out.output), { code: 'ORDERING_INVALID_INPUT' });
  assert.throws(() => new FirstAcceptDispatcher({ retention: 0 }), { code: 'ORDERING_INVALID_OPTION' });
  assert.equal(d.stats.acceptsIn, 0);
});
