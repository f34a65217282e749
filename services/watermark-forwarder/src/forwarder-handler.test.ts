import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { ConvoyRecord, OutgoingRecord } from '@convoy/kafka';
import { WatermarkForwarder } from './forwarder-handler.ts';

const A = { topic: 'a', partition: 0 };
const B = { topic: 'b', partition: 0 };

function rec(tp: { topic: string; partition: number }, offset: number, headers: Record<string, string>, key: string | null = 'k'): ConvoyRecord {
  const h: Record<string, Buffer> = {};
  for (const [k, v] of Object.entries(headers)) h[k] = Buffer.from(v);
  return { ...tp, offset, timestamp: 1, key: key === null ? null : Buffer.from(key), value: Buffer.from(`v${offset}`), headers: h };
}
const wm = (tp: { topic: string; partition: number }, offset: number, time: number) => rec(tp, offset, { 'convoy-kind': 'watermark', 'convoy-event-time': String(time) }, null);

function sink() {
  const sent: OutgoingRecord[] = [];
  return { sent, send: (r: OutgoingRecord) => void sent.push(r) };
}

function make(floor?: number) {
  return new WatermarkForwarder({ inputs: [A, B], outputTopic: 'out', outputPartitions: 2, dlqTopic: 'dlq', clock: 'time', idleTimeoutMs: 1_000, caughtUpAfterMs: 0, now: 0, ...(floor === undefined ? {} : { floor }) });
}

test('min across inputs, applied only at the partition\'s next unit, written into every output partition', () => {
  const f = make();
  const out = sink();
  f.onRecords(A, [rec(A, 0, {}), wm(A, 1, 100)], out, 10);
  f.onRecords(B, [wm(B, 0, 50)], out, 10);
  assert.equal(f.pendingEmission(), undefined, 'nothing applied before the next unit');
  f.onTick(A, 20);
  assert.equal(f.pendingEmission(), undefined, 'B not applied yet');
  f.onTick(B, 20);
  const e = f.pendingEmission();
  assert.equal(e?.watermark, 50);
  assert.deepEqual(e?.records.map((r) => [r.topic, r.partition, r.key, r.headers?.['convoy-event-time']?.toString()]), [['out', 0, null, '50'], ['out', 1, null, '50']]);
  f.confirmWritten(50);
  assert.equal(f.pendingEmission(), undefined);
  f.onRecords(B, [wm(B, 1, 300)], out, 30);
  f.onTick(B, 40);
  assert.equal(f.pendingEmission()?.watermark, 100, 'now A is the slowest');
  assert.deepEqual(out.sent.map((r) => [r.topic, r.key?.toString()]), [['out', 'k']], 'data forwarded with its key, watermarks consumed');
});

test('a caught-up input is excluded; quiet time alone never excludes; a record rejoins it', () => {
  const f = make();
  const out = sink();
  f.onAssigned(B, null, 0);
  f.onRecords(A, [wm(A, 0, 100)], out, 0);
  f.onTick(A, 10);
  f.onTick(B, 5_000); // quiet for long, end offset unknown
  assert.equal(f.pendingEmission(), undefined);
  assert.deepEqual(f.quietInputs(5_000), ['a/0', 'b/0']);
  f.onTick(B, 5_000, { endOffset: 3, committedOffset: 2 }); // not yet at the end
  assert.equal(f.pendingEmission(), undefined);
  f.onTick(B, 5_100, { endOffset: 3, committedOffset: 3 });
  assert.equal(f.pendingEmission()?.watermark, 100);
  f.confirmWritten(100);
  f.onRecords(B, [rec(B, 3, {}, 'x'), wm(B, 4, 60)], out, 5_200); // rejoins behind
  f.onRecords(A, [wm(A, 1, 200)], out, 5_200);
  f.onTick(A, 5_300);
  f.onTick(B, 5_300, { endOffset: 5 }); // position 5 = end, but the rejoin's watermark is applied first
  assert.equal(f.rejoinedBehind, 1);
  assert.equal(f.combined, 200, 'B caught up again after applying its watermark: A alone counts');
});

test('an empty partition with nothing committed is caught up at end offset 0', () => {
  const f = make();
  f.onAssigned(B, null, 0);
  f.onRecords(A, [wm(A, 0, 7)], sink(), 0);
  f.onTick(A, 1);
  f.onTick(B, 1, { endOffset: 0 });
  assert.equal(f.pendingEmission()?.watermark, 7);
});

test('bad records go to the DLQ with reasons; a watermark of the wrong clock too', () => {
  const f = make();
  const out = sink();
  f.onRecords(A, [rec(A, 0, { 'convoy-kind': 'bogus' }), rec(A, 1, { 'convoy-kind': 'watermark', 'convoy-seq': '5' }), rec(A, 2, { 'convoy-seq': '1' })], out, 0);
  assert.deepEqual(out.sent.map((r) => [r.topic, r.headers?.['convoy-error-code']?.toString()]), [
    ['dlq', 'ENVELOPE_MALFORMED'],
    ['dlq', 'WMF_WATERMARK_WRONG_CLOCK'],
    ['dlq', 'ENVELOPE_MALFORMED'],
  ]);
  assert.equal(f.counters.deadLettered, 3);
});

test('null keys keep input partition mod output partitions', () => {
  const f = new WatermarkForwarder({ inputs: [{ topic: 'a', partition: 3 }], outputTopic: 'out', outputPartitions: 2, dlqTopic: 'dlq', clock: 'time', idleTimeoutMs: 1, caughtUpAfterMs: 0, now: 0 });
  const out = sink();
  f.onRecords({ topic: 'a', partition: 3 }, [rec({ topic: 'a', partition: 3 }, 0, {}, null), rec({ topic: 'a', partition: 3 }, 1, {}, 'k')], out, 0);
  assert.deepEqual(out.sent.map((r) => r.partition), [1, undefined]);
});

test('a recovered floor is never undercut after a restart', () => {
  const f = make(500);
  f.onRecords(A, [wm(A, 0, 400)], sink(), 0);
  f.onRecords(B, [wm(B, 0, 450)], sink(), 0);
  f.onTick(A, 1);
  f.onTick(B, 1);
  assert.equal(f.pendingEmission(), undefined);
  f.onRecords(A, [wm(A, 1, 600)], sink(), 2);
  f.onRecords(B, [wm(B, 1, 700)], sink(), 2);
  f.onTick(A, 3);
  f.onTick(B, 3);
  assert.equal(f.pendingEmission()?.watermark, 600);
});

test('property: emitted watermarks increase and never exceed an input that is not caught up', () => {
  const step = fc.oneof(
    fc.record({ kind: fc.constant('wm' as const), input: fc.integer({ min: 0, max: 2 }), value: fc.integer({ min: 0, max: 1_000 }) }),
    fc.record({ kind: fc.constant('tick' as const), input: fc.integer({ min: 0, max: 2 }), atEnd: fc.boolean() }),
  );
  fc.assert(
    fc.property(fc.array(step, { maxLength: 80 }), (steps) => {
      const tps = [0, 1, 2].map((p) => ({ topic: 't', partition: p }));
      const f = new WatermarkForwarder({ inputs: tps, outputTopic: 'o', outputPartitions: 1, dlqTopic: 'd', clock: 'time', idleTimeoutMs: 1, caughtUpAfterMs: 0, now: 0 });
      const applied = [Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY];
      const staged: Array<number | undefined> = [undefined, undefined, undefined];
      const excluded = [false, false, false];
      const offsets = [0, 0, 0];
      let last = Number.NEGATIVE_INFINITY;
      let t = 0;
      for (const s of steps) {
        t++;
        const tp = tps[s.input]!;
        if (s.kind === 'wm') {
          if (staged[s.input] !== undefined) applied[s.input] = Math.max(applied[s.input]!, staged[s.input]!);
          f.onRecords(tp, [wm(tp, offsets[s.input]!++, s.value)], sink(), t);
          staged[s.input] = Math.max(staged[s.input] ?? s.value, s.value);
          excluded[s.input] = false;
        } else {
          if (staged[s.input] !== undefined) applied[s.input] = Math.max(applied[s.input]!, staged[s.input]!);
          staged[s.input] = undefined;
          f.onTick(tp, t, s.atEnd ? { endOffset: offsets[s.input]! } : {});
          if (s.atEnd) excluded[s.input] = true;
        }
        const e = f.pendingEmission();
        if (e !== undefined) {
          assert.ok(e.watermark > last);
          last = e.watermark;
          f.confirmWritten(e.watermark);
          // Monotone max(last, min) may hold above a rejoined input; it never passes a never-excluded one.
          for (let i = 0; i < 3; i++) if (!excluded[i] && applied[i]! < e.watermark && f.rejoinedBehind === 0) assert.fail(`above input ${i}`);
        }
      }
    }),
    { numRuns: 200 },
  );
});

test('caught up only after staying at the end offset for the grace, with no record arriving', () => {
  const f = new WatermarkForwarder({ inputs: [A, B], outputTopic: 'out', outputPartitions: 1, dlqTopic: 'dlq', clock: 'time', idleTimeoutMs: 1, caughtUpAfterMs: 500, now: 0 });
  f.onAssigned(B, 4, 0);
  f.onRecords(A, [wm(A, 0, 9)], sink(), 0);
  f.onTick(A, 0);
  f.onTick(B, 100, { endOffset: 4 });
  f.onTick(B, 599, { endOffset: 4 });
  assert.equal(f.pendingEmission(), undefined);
  f.onRecords(B, [rec(B, 4, {})], sink(), 550); // a record restarts the grace
  f.onTick(B, 600, { endOffset: 5 });
  f.onTick(B, 1_099, { endOffset: 5 });
  assert.equal(f.pendingEmission(), undefined);
  f.onTick(B, 1_100, { endOffset: 5 });
  assert.equal(f.pendingEmission()?.watermark, 9);
});

test('a far-future watermark: unbounded it becomes the floor for good; bounded it is dead-lettered by code', () => {
  const NOW = 1_700_000_000_000;
  const run = (maxFutureMs?: number) => {
    const f = new WatermarkForwarder({
      inputs: [A, B],
      outputTopic: 'out',
      outputPartitions: 1,
      dlqTopic: 'dlq',
      clock: 'time',
      idleTimeoutMs: 1_000,
      caughtUpAfterMs: 0,
      now: NOW,
      ...(maxFutureMs === undefined ? {} : { maxFutureMs }),
      maxDeadLetterBytes: 2048,
    });
    const out = sink();
    // B is at its end offset: excluded from the minimum, so A alone decides.
    f.onAssigned(B, 0, NOW);
    f.onTick(B, NOW, { endOffset: 0 });
    f.onRecords(A, [wm(A, 0, NOW - 100), wm(A, 1, 8.64e15), wm(A, 2, NOW + 3_600_000)], out, NOW);
    f.onTick(A, NOW + 1);
    return { f, out };
  };
  assert.equal(run().f.pendingEmission()?.watermark, 8.64e15);

  const { f, out } = run(3_600_000);
  assert.equal(f.pendingEmission()?.watermark, NOW + 3_600_000);
  assert.deepEqual(
    out.sent.map((r) => [r.topic, r.headers?.['convoy-error-code']?.toString(), r.headers?.['convoy-error-message']?.toString()]),
    [['dlq', 'WMF_EVENT_TIME_OUT_OF_RANGE', `watermark 8640000000000000 is more than WMF_EVENT_TIME_MAX_FUTURE_MS=3600000 ahead of the processing clock ${NOW}`]],
  );
  assert.deepEqual([...f.counters.deadLetteredByCode], [['WMF_EVENT_TIME_OUT_OF_RANGE', 1]]);
  assert.equal(f.counters.watermarksIn, 2);
});

test('a dead letter above maxDeadLetterBytes loses its value; the reason stays', () => {
  const f = new WatermarkForwarder({ inputs: [A], outputTopic: 'out', outputPartitions: 1, dlqTopic: 'dlq', clock: 'logical', idleTimeoutMs: 1_000, caughtUpAfterMs: 0, now: 0, maxDeadLetterBytes: 2048 });
  const out = sink();
  const big = { ...wm(A, 0, 5), value: Buffer.alloc(5_000, 1) };
  f.onRecords(A, [big], out, 0);
  const dead = out.sent[0];
  assert.equal(dead?.value, null);
  assert.equal(dead?.headers?.['convoy-error-code']?.toString(), 'WMF_WATERMARK_WRONG_CLOCK');
  assert.equal(dead?.headers?.['convoy-error-omitted-bytes']?.toString(), 'value=5000');
  assert.equal(f.counters.deadLettersTrimmed, 1);
});
