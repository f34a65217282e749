import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { FixedSlack } from '../slack/fixed-slack.ts';
import { EventTimeReorderBuffer } from './event-time-reorder-buffer.ts';
import { RecordingOutput } from './recording-output.ts';
import { SequenceReorderBuffer } from './sequence-reorder-buffer.ts';
import type { LatePolicy } from './types.ts';

const NUM_RUNS = 150;

interface SeqEv {
  seq: number;
  id: number;
  bytes: number;
}

interface Arrival {
  stream: string;
  seq: number;
  at: number;
  filler: boolean;
  bytes: number;
}

/** Two streams of n seqs; each seq dropped, duplicated or filled upstream; arrivals delayed at random. */
const sequenceScenario = fc
  .record({
    n: fc.integer({ min: 1, max: 50 }),
    fates: fc.array(fc.constantFrom('ok', 'ok', 'ok', 'ok', 'drop', 'dropFill', 'dup'), { minLength: 100, maxLength: 100 }),
    delays: fc.array(fc.integer({ min: 0, max: 60 }), { minLength: 220, maxLength: 220 }),
    sizes: fc.array(fc.integer({ min: 0, max: 40 }), { minLength: 100, maxLength: 100 }),
    tickEvery: fc.integer({ min: 1, max: 10 }),
    timeout: fc.constantFrom(5, 20, 80, Number.POSITIVE_INFINITY),
    capacity: fc.integer({ min: 1, max: 30 }),
    capacityBytes: fc.constantFrom(40, 200, Number.POSITIVE_INFINITY),
    overflow: fc.constantFrom('force-oldest-gap' as const, 'back-pressure' as const),
    policies: fc.tuple(
      fc.constantFrom<LatePolicy>('emit-flagged', 'route-late', 'drop'),
      fc.constantFrom<LatePolicy>('emit-flagged', 'route-late', 'drop'),
    ),
  })
  .map((s) => {
    const arrivals: Arrival[] = [];
    let d = 0;
    const delay = () => s.delays[d++ % s.delays.length] as number;
    for (const [si, stream] of ['a', 'b'].entries()) {
      for (let seq = 0; seq < s.n; seq++) {
        const fate = s.fates[(seq * 2 + si) % s.fates.length];
        const bytes = s.sizes[(seq + si * 50) % s.sizes.length] as number;
        const base = seq * 2;
        if (fate === 'ok' || fate === 'dup') arrivals.push({ stream, seq, at: base + delay(), filler: false, bytes });
        if (fate === 'dup') arrivals.push({ stream, seq, at: base + delay(), filler: false, bytes });
        if (fate === 'dropFill') arrivals.push({ stream, seq, at: base + delay(), filler: true, bytes: 0 });
      }
    }
    arrivals.sort((x, y) => x.at - y.at);
    return { ...s, arrivals };
  });

describe('SequenceReorderBuffer properties', () => {
  test('in order, each input leaves exactly once, caps hold', () => {
    fc.assert(
      fc.property(sequenceScenario, (s) => {
        const out = new RecordingOutput<SeqEv>();
        const policy = (stream: string): LatePolicy => (stream === 'a' ? s.policies[0] : s.policies[1]);
        const buf = new SequenceReorderBuffer<SeqEv>(
          {
            timeout: s.timeout,
            capacity: s.capacity,
            capacityBytes: s.capacityBytes,
            overflow: s.overflow,
            latePolicy: policy,
          },
          out,
        );
        const inserted: SeqEv[] = [];
        let pending: [string, SeqEv | { seq: number }][] = [];
        let id = 0;
        const offer = (stream: string, ev: SeqEv | { seq: number }, now: number) => {
          const outcome = 'id' in ev ? buf.insert(stream, ev, now) : buf.fill(stream, ev, now);
          if (outcome === 'rejected-full') pending.push([stream, ev]);
        };
        const checkCaps = () => {
          assert.ok(buf.size <= s.capacity, `size ${buf.size} > ${s.capacity}`);
          assert.ok(buf.bytes <= s.capacityBytes, `bytes ${buf.bytes} > ${s.capacityBytes}`);
        };
        s.arrivals.forEach((a, i) => {
          if (a.filler) offer(a.stream, { seq: a.seq }, a.at);
          else {
            const ev = { seq: a.seq, id: id++, bytes: a.bytes };
            inserted.push(ev);
            offer(a.stream, ev, a.at);
          }
          checkCaps();
          if (i % s.tickEvery === 0) {
            buf.deliverExpired(a.at);
            const retry = pending;
            pending = [];
            for (const [stream, ev] of retry) offer(stream, ev, a.at);
            checkCaps();
          }
        });
        for (let round = 0; round < 3 && (buf.size > 0 || pending.length > 0); round++) {
          for (const stream of ['a', 'b']) buf.markAllBefore(stream, s.n);
          const retry = pending;
          pending = [];
          for (const [stream, ev] of retry) offer(stream, ev, 1e6);
        }
        assert.equal(buf.size, 0);
        assert.equal(pending.length, 0);

        const seen = new Map<number, number>();
        const lastDelivered = new Map<string, number>();
        for (const call of out.calls) {
          if (call.kind === 'suspectedDrop') continue;
          seen.set(call.event.id, (seen.get(call.event.id) ?? 0) + 1);
          if (call.kind === 'deliver') {
            const last = lastDelivered.get(call.stream) ?? -1;
            assert.ok(call.event.seq > last, `${call.stream}: delivered ${call.event.seq} after ${last}`);
            lastDelivered.set(call.stream, call.event.seq);
          } else if (call.kind === 'late') assert.equal(call.policy, policy(call.stream));
          else if (call.reason === 'late') assert.equal(policy(call.stream), 'drop');
        }
        for (const ev of inserted) assert.equal(seen.get(ev.id), 1, `event ${ev.id} (seq ${ev.seq}) left ${seen.get(ev.id) ?? 0} times`);
        assert.equal(seen.size, inserted.length);
        const c = buf.counters;
        assert.equal(
          c.delivered + c.lateEmitted + c.lateRouted + c.lateDropped + c.duplicates,
          inserted.length,
        );
        assert.equal(c.received - c.rejectedFull, inserted.length);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  test('with no timeout and room to spare, output is exactly the distinct surviving seqs in order', () => {
    fc.assert(
      fc.property(sequenceScenario, (s) => {
        const out = new RecordingOutput<SeqEv>();
        const buf = new SequenceReorderBuffer<SeqEv>({ timeout: Number.POSITIVE_INFINITY, capacity: 1000 }, out);
        const expected = new Map<string, Set<number>>([['a', new Set()], ['b', new Set()]]);
        let id = 0;
        for (const a of s.arrivals) {
          if (a.filler) buf.fill(a.stream, { seq: a.seq }, a.at);
          else {
            buf.insert(a.stream, { seq: a.seq, id: id++, bytes: a.bytes }, a.at);
            expected.get(a.stream)?.add(a.seq);
          }
        }
        for (const stream of ['a', 'b']) buf.markAllBefore(stream, s.n);
        for (const stream of ['a', 'b']) {
          const delivered = out.calls.filter((c) => c.kind === 'deliver' && c.stream === stream).map((c) => (c as { event: SeqEv }).event.seq);
          assert.deepEqual(delivered, [...(expected.get(stream) ?? [])].sort((x, y) => x - y));
        }
        assert.equal(out.calls.filter((c) => c.kind === 'late' || c.kind === 'suspectedDrop').length, 0);
        assert.equal(buf.counters.gapsClosedByTimeout + buf.counters.gapsClosedByOverflow, 0);
      }),
      { numRuns: NUM_RUNS },
    );
  });
});

interface TimedEv {
  eventTime: number;
  id: number;
  bytes: number;
}

describe('EventTimeReorderBuffer properties', () => {
  test('non-decreasing per stream, late only when behind, each input leaves exactly once, caps hold', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            stream: fc.constantFrom('a', 'b'),
            eventTime: fc.integer({ min: 0, max: 200 }),
            bytes: fc.integer({ min: 0, max: 30 }),
            watermark: fc.option(fc.integer({ min: 0, max: 200 }), { freq: 5 }),
          }),
          { maxLength: 120 },
        ),
        fc.integer({ min: 0, max: 50 }),
        fc.integer({ min: 1, max: 20 }),
        fc.constantFrom(60, Number.POSITIVE_INFINITY),
        fc.constantFrom('force-release-oldest' as const, 'back-pressure' as const),
        fc.constantFrom<LatePolicy>('emit-flagged', 'route-late', 'drop'),
        (items, slack, capacity, capacityBytes, overflow, latePolicy) => {
          const out = new RecordingOutput<TimedEv>();
          const buf = new EventTimeReorderBuffer<TimedEv>(
            { estimator: new FixedSlack(slack), capacity, capacityBytes, overflow, latePolicy },
            out,
          );
          const lastDelivered = new Map<string, number>();
          const seen = new Map<number, number>();
          const inserted: TimedEv[] = [];
          let pending: [string, TimedEv][] = [];
          const offer = (stream: string, ev: TimedEv, now: number) => {
            const before = out.calls.length;
            const r = buf.insert(stream, ev, now);
            if (r === 'rejected-full') {
              assert.equal(out.calls.length, before);
              pending.push([stream, ev]);
            }
          };
          items.forEach((it, i) => {
            const ev = { eventTime: it.eventTime, id: i, bytes: it.bytes };
            inserted.push(ev);
            offer(it.stream, ev, i);
            if (it.watermark !== null) {
              buf.advanceWatermark(it.watermark, it.stream);
              const retry = pending;
              pending = [];
              for (const [stream, p] of retry) offer(stream, p, i);
            }
            assert.ok(buf.size <= capacity && buf.bytes <= capacityBytes);
          });
          for (let round = 0; round < 3 && (buf.size > 0 || pending.length > 0); round++) {
            buf.flush();
            const retry = pending;
            pending = [];
            for (const [stream, p] of retry) offer(stream, p, 1e6);
          }
          buf.flush();
          assert.equal(buf.size, 0);
          assert.equal(pending.length, 0);
          for (const call of out.calls) {
            if (call.kind === 'suspectedDrop') assert.fail('no suspected drops in event-time mode');
            seen.set(call.event.id, (seen.get(call.event.id) ?? 0) + 1);
            const last = lastDelivered.get(call.stream) ?? Number.NEGATIVE_INFINITY;
            if (call.kind === 'deliver') {
              assert.ok(call.event.eventTime >= last, `${call.stream}: ${call.event.eventTime} after ${last}`);
              lastDelivered.set(call.stream, call.event.eventTime);
            } else {
              assert.ok(call.event.eventTime < last, 'late only when behind what was released');
            }
          }
          for (const ev of inserted) assert.equal(seen.get(ev.id), 1);
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });
});
