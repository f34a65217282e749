import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FixedSlack } from '../slack/fixed-slack.ts';
import type { SlackEstimator } from '../slack/slack-estimator.ts';
import { EventTimeReorderBuffer, type EventTimeReorderOptions } from './event-time-reorder-buffer.ts';
import { RecordingOutput } from './recording-output.ts';

interface Ev {
  eventTime: number;
  id: string;
  bytes?: number;
  value?: number;
}

const idOf = (e: Ev) => e.id;
const ev = (eventTime: number, id = String(eventTime), extra: Partial<Ev> = {}): Ev => ({ eventTime, id, ...extra });

function setup(options: EventTimeReorderOptions<Ev> = {}) {
  const out = new RecordingOutput<Ev>();
  const buf = new EventTimeReorderBuffer<Ev>(options, out);
  return { out, buf, take: () => out.take(idOf) };
}

describe('EventTimeReorderBuffer', () => {
  test('fixed slack: released once clk reaches eventTime + slack, in event-time order', () => {
    const { buf, take } = setup({ estimator: new FixedSlack(10) });
    assert.equal(buf.insert('s', ev(100), 0), 'buffered');
    buf.insert('s', ev(105), 1);
    buf.insert('s', ev(95), 2); // clk 105: 95 + 10 <= 105
    assert.deepEqual(take(), ['d:s:95']);
    buf.insert('s', ev(112), 3); // clk 112: releases 100 (110), keeps 105 (115)
    assert.deepEqual(take(), ['d:s:100']);
    buf.insert('s', ev(120), 4); // releases 105, keeps 112 (122)
    assert.deepEqual(take(), ['d:s:105']);
    assert.equal(buf.insert('s', ev(90), 5), 'late');
    assert.deepEqual(take(), ['l:s:90:route-late']);
    assert.equal(buf.sizeOf('s'), 2);
    assert.equal(buf.lastReleasedTime('s'), 105);
  });

  test('an event at exactly the last released time is not late', () => {
    const { buf, take } = setup({ estimator: new FixedSlack(0) });
    buf.insert('s', ev(10, 'a'), 0);
    assert.equal(buf.insert('s', ev(10, 'b'), 0), 'delivered');
    assert.deepEqual(take(), ['d:s:a', 'd:s:b']);
  });

  test('ties are released in arrival order', () => {
    const { buf, take } = setup();
    buf.insert('s', ev(5, 'x'), 0);
    buf.insert('s', ev(3, 'y'), 0);
    buf.insert('s', ev(5, 'z'), 0);
    buf.insert('s', ev(3, 'w'), 0);
    buf.advanceWatermark(5);
    assert.deepEqual(take(), ['d:s:y', 'd:s:w', 'd:s:x', 'd:s:z']);
  });

  test('explicit watermark, per stream and global, never backwards', () => {
    const { buf, take } = setup();
    buf.insert('a', ev(30, 'a30'), 0);
    buf.insert('a', ev(10, 'a10'), 0);
    buf.insert('a', ev(20, 'a20'), 0);
    buf.insert('b', ev(12, 'b12'), 0);
    buf.advanceWatermark(15, 'a');
    assert.deepEqual(take(), ['d:a:a10']);
    buf.advanceWatermark(25, 'a');
    buf.advanceWatermark(5, 'a');
    assert.deepEqual(take(), ['d:a:a20']);
    buf.advanceWatermark(40);
    assert.deepEqual(take(), ['d:a:a30', 'd:b:b12']);
    assert.equal(buf.insert('b', ev(11, 'b11'), 1), 'late');
    assert.equal(buf.insert('b', ev(35, 'b35'), 1), 'delivered');
  });

  test('the estimator observes every arrival, with observedValue, before the release decision', () => {
    const seen: [number, number][] = [];
    const estimator: SlackEstimator = {
      slack: 100,
      observe(t, v) {
        seen.push([t, v]);
        if (t >= 50) this.slack = 0;
      },
    } as SlackEstimator & { slack: number };
    const { buf, take } = setup({ estimator, observedValue: (e) => e.value ?? 1 });
    buf.insert('s', ev(10, 'a', { value: 7 }), 0);
    buf.insert('s', ev(5, 'b'), 0);
    buf.insert('s', ev(50, 'c'), 0); // slack drops to 0 on this arrival: 5, 10, 50 all release
    assert.deepEqual(seen, [[10, 7], [5, 1], [50, 1]]);
    assert.deepEqual(take(), ['d:s:b', 'd:s:a', 'd:s:c']);
  });

  test('one estimator per stream from a factory', () => {
    const made: string[] = [];
    const { buf, take } = setup({
      estimator: (stream) => {
        made.push(stream);
        return new FixedSlack(stream === 'fast' ? 0 : 100);
      },
    });
    buf.insert('fast', ev(1, 'f1'), 0);
    buf.insert('slow', ev(1, 's1'), 0);
    buf.insert('slow', ev(50, 's50'), 0);
    assert.deepEqual(made, ['fast', 'slow']);
    assert.deepEqual(take(), ['d:fast:f1']);
  });

  for (const [policy, expected] of [
    ['emit-flagged', 'l:s:old:emit-flagged'],
    ['route-late', 'l:s:old:route-late'],
    ['drop', 'x:s:old:late'],
  ] as const) {
    test(`late policy ${policy}`, () => {
      const { buf, take } = setup({ estimator: new FixedSlack(0), latePolicy: policy });
      buf.insert('s', ev(10), 0);
      assert.equal(buf.insert('s', ev(9, 'old'), 0), 'late');
      assert.deepEqual(take(), ['d:s:10', expected]);
    });
  }

  test('never-drop stream rejects a drop policy', () => {
    assert.throws(() => setup({ defaultLatePolicy: 'drop', neverDrop: ['cards'] }), { code: 'ORDERING_INVALID_OPTION' });
  });

  test('overflow force-release-oldest releases the smallest event time early, counted', () => {
    const { buf, take } = setup({ estimator: new FixedSlack(1000), capacity: 2 });
    buf.insert('a', ev(20, 'a20'), 0);
    buf.insert('b', ev(10, 'b10'), 0);
    assert.equal(buf.insert('a', ev(15, 'a15'), 0), 'buffered');
    assert.deepEqual(take(), ['d:b:b10']);
    buf.insert('a', ev(30, 'a30'), 0);
    assert.deepEqual(take(), ['d:a:a15']);
    assert.equal(buf.size, 2);
    assert.equal(buf.counters.forcedReleases, 2);
    assert.equal(buf.insert('a', ev(12, 'a12'), 0), 'late');
  });

  test('overflow by bytes', () => {
    const { buf, take } = setup({ capacityBytes: 100 });
    buf.insert('s', ev(2, 'two', { bytes: 60 }), 0);
    buf.insert('s', ev(1, 'one', { bytes: 60 }), 0);
    assert.deepEqual(take(), ['d:s:one']);
    assert.equal(buf.bytes, 60);
  });

  test('back-pressure rejects without observing; the arrival still advances clk so the buffer cannot deadlock', () => {
    const seen: number[] = [];
    const slack = new FixedSlack(10);
    const estimator: SlackEstimator = { get slack() { return slack.slack; }, observe: (t) => void seen.push(t) };
    const { buf, take } = setup({ estimator, capacity: 2, overflow: 'back-pressure' });
    buf.insert('s', ev(1), 0);
    buf.insert('s', ev(2), 0);
    assert.equal(buf.insert('s', ev(5), 0), 'rejected-full');
    assert.deepEqual(seen, [1, 2]);
    assert.deepEqual(take(), []);
    assert.equal(buf.insert('s', ev(11), 0), 'buffered'); // clk 11 releases 1 first, then fits
    assert.deepEqual(take(), ['d:s:1']);
    assert.equal(buf.counters.rejectedFull, 1);
    assert.equal(buf.counters.forcedReleases, 0);
  });

  test('idle flush releases a silent stream at its deadline', () => {
    const { buf, take } = setup({ estimator: new FixedSlack(100), idleFlushMs: 50 });
    buf.insert('s', ev(10), 1000);
    buf.insert('s', ev(5), 1010);
    buf.insert('t', ev(7), 1020);
    assert.equal(buf.nextDeadline(), 1060);
    buf.deliverIdle(1059);
    assert.deepEqual(take(), []);
    buf.deliverIdle(1060);
    assert.deepEqual(take(), ['d:s:5', 'd:s:10']);
    assert.equal(buf.nextDeadline(), 1070);
    buf.deliverIdle(1070);
    assert.deepEqual(take(), ['d:t:7']);
    assert.equal(buf.counters.idleFlushed, 3);
    assert.equal(buf.nextDeadline(), undefined);
  });

  test('flush releases everything in order', () => {
    const { buf, take } = setup({ estimator: new FixedSlack(100) });
    buf.insert('s', ev(3), 0);
    buf.insert('s', ev(1), 0);
    buf.flush();
    assert.deepEqual(take(), ['d:s:1', 'd:s:3']);
    assert.equal(buf.counters.flushed, 2);
  });
});
