import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { RecordingOutput } from './recording-output.ts';
import { WatermarkTracker } from './watermark-tracker.ts';

function tracker(inputs: string[], out: RecordingOutput, idleTimeout = 1000): WatermarkTracker {
  return new WatermarkTracker({ inputs, idleTimeout, now: 0, output: out });
}

test('combined is the minimum, emitted only when it advances; regressions are ignored', () => {
  const out = new RecordingOutput();
  const t = tracker(['a', 'b'], out);
  t.update('a', 10, 0);
  assert.deepEqual(out.take(), []);
  t.update('b', 5, 1);
  assert.deepEqual(out.take(), ['wm:5']);
  t.update('b', 20, 2);
  assert.deepEqual(out.take(), ['wm:10']);
  t.update('a', 30, 3);
  assert.deepEqual(out.take(), ['wm:20']);
  t.update('a', 25, 4);
  assert.deepEqual(out.take(), []);
  assert.equal(t.regressions, 1);
  assert.equal(t.status('a', 4).watermark, 30);
  assert.equal(t.combined, 20);
});

test('a quiet input keeps holding; only markCaughtUp releases it; a rejoin behind holds, never goes back', () => {
  const out = new RecordingOutput();
  const t = tracker(['a', 'b'], out);
  t.update('a', 10, 0);
  t.update('b', 10, 0);
  assert.deepEqual(out.take(), ['wm:10']);
  t.update('a', 60, 1500);
  t.onPeriodicEmit(1600);
  assert.deepEqual(out.take(), [], 'quiet b still holds at 10');
  assert.deepEqual(t.quietInputs(1600), ['b']);
  assert.equal(t.status('b', 1600).state, 'quiet');
  t.markCaughtUp('b', 1700);
  assert.deepEqual(out.take(), ['wm:60']);
  assert.equal(t.status('b', 1700).state, 'caughtUp');
  t.update('b', 40, 1800); // rejoins behind the combined watermark
  assert.equal(t.rejoinedBehind, 1);
  assert.equal(t.status('b', 1800).state, 'active');
  t.update('a', 80, 1850);
  assert.deepEqual(out.take(), [], 'combined holds at 60 while b is at 40');
  t.update('b', 70, 1900);
  assert.deepEqual(out.take(), ['wm:70']);
});

test('markActivity (data without a watermark) rejoins a caught-up input and holds the minimum', () => {
  const out = new RecordingOutput();
  const t = tracker(['a', 'b'], out);
  t.update('a', 5, 0);
  t.markCaughtUp('b', 0);
  assert.deepEqual(out.take(), ['wm:5']);
  t.markActivity('b', 10);
  t.update('a', 9, 20);
  assert.deepEqual(out.take(), [], 'b (at −∞) owes data again');
  t.update('b', 100, 30);
  assert.deepEqual(out.take(), ['wm:9']);
});

test('all inputs quiet → output idle once; an input speaking → active', () => {
  const out = new RecordingOutput();
  const t = tracker(['a', 'b'], out);
  t.update('a', 1, 0);
  t.update('b', 2, 0);
  assert.deepEqual(out.take(), ['wm:1']);
  t.onPeriodicEmit(999);
  assert.deepEqual(out.take(), []);
  t.onPeriodicEmit(1000);
  t.onPeriodicEmit(5000);
  assert.deepEqual(out.take(), ['idle']);
  t.update('a', 3, 5001);
  assert.deepEqual(out.take(), ['active', 'wm:2']);
});

test('all inputs caught up → idle, and the combined watermark stays finite', () => {
  const out = new RecordingOutput();
  const t = tracker(['a', 'b'], out);
  t.update('a', 4, 0);
  t.update('b', 7, 0);
  t.markCaughtUp('a', 1);
  t.markCaughtUp('b', 2);
  assert.deepEqual(out.take(), ['wm:4', 'wm:7', 'idle']);
  assert.equal(t.combined, 7);
});

test('logical counters; inputs can be added (holding) and removed (releasing)', () => {
  const out = new RecordingOutput();
  const t = tracker(['s0', 's1'], out);
  t.update('s0', 3, 0);
  t.update('s1', 4, 0);
  t.addInput('s2', 0, 1);
  t.update('s0', 8, 1);
  assert.deepEqual(out.take(), ['wm:3']);
  t.removeInput('s2', 2);
  assert.deepEqual(out.take(), ['wm:4']);
  assert.throws(() => t.update('s2', 9, 3), { code: 'ORDERING_INVALID_OPTION' });
  assert.throws(() => t.addInput('s0', 3), { code: 'ORDERING_INVALID_OPTION' });
});

type Op =
  | { kind: 'update'; input: number; watermark: number; dt: number }
  | { kind: 'activity'; input: number; dt: number }
  | { kind: 'caughtUp'; input: number; dt: number }
  | { kind: 'tick'; dt: number };

const INPUTS = ['a', 'b', 'c'];
const input = fc.integer({ min: 0, max: INPUTS.length - 1 });
const dt = fc.integer({ min: 0, max: 700 });
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('update' as const), input, watermark: fc.integer({ min: 0, max: 100 }), dt }),
  fc.record({ kind: fc.constant('activity' as const), input, dt }),
  fc.record({ kind: fc.constant('caughtUp' as const), input, dt }),
  fc.record({ kind: fc.constant('tick' as const), dt }),
);

test('property: combined = max(previous, min over inputs not caught up); strictly increasing emissions', () => {
  fc.assert(
    fc.property(fc.array(op, { maxLength: 80 }), (ops) => {
      const out = new RecordingOutput();
      const t = tracker(INPUTS, out);
      const model = INPUTS.map(() => ({ watermark: Number.NEGATIVE_INFINITY, caughtUp: false }));
      let now = 0;
      let combined = Number.NEGATIVE_INFINITY;
      for (const o of ops) {
        now += o.dt;
        const before = out.watermarks.length;
        if (o.kind === 'update') {
          const m = model[o.input]!;
          m.watermark = Math.max(m.watermark, o.watermark);
          m.caughtUp = false;
          t.update(INPUTS[o.input]!, o.watermark, now);
        } else if (o.kind === 'activity') {
          model[o.input]!.caughtUp = false;
          t.markActivity(INPUTS[o.input]!, now);
        } else if (o.kind === 'caughtUp') {
          model[o.input]!.caughtUp = true;
          t.markCaughtUp(INPUTS[o.input]!, now);
        } else {
          t.onPeriodicEmit(now);
        }
        const owed = model.filter((m) => !m.caughtUp).map((m) => m.watermark);
        const min = owed.length === 0 ? Number.NEGATIVE_INFINITY : Math.min(...owed);
        const expected = Math.max(combined, min);
        assert.equal(t.combined, expected);
        const emitted = out.watermarks.slice(before);
        if (expected > combined) {
          assert.deepEqual(emitted, [expected]);
          assert.ok(emitted.every((w) => w <= min), 'never past an input that may owe data');
        } else {
          assert.deepEqual(emitted, []);
        }
        combined = expected;
      }
    }),
    { numRuns: 300 },
  );
});

test('property: output idle/active markers alternate, starting with idle', () => {
  fc.assert(
    fc.property(fc.array(op, { maxLength: 80 }), (ops) => {
      const out = new RecordingOutput();
      const t = tracker(INPUTS, out);
      let now = 0;
      for (const o of ops) {
        now += o.dt;
        if (o.kind === 'update') t.update(INPUTS[o.input]!, o.watermark, now);
        else if (o.kind === 'activity') t.markActivity(INPUTS[o.input]!, now);
        else if (o.kind === 'caughtUp') t.markCaughtUp(INPUTS[o.input]!, now);
        else t.onPeriodicEmit(now);
      }
      const markers = out.calls.filter((c) => c === 'idle' || c === 'active');
      markers.forEach((m, i) => assert.equal(m, i % 2 === 0 ? 'idle' : 'active'));
    }),
    { numRuns: 200 },
  );
});
