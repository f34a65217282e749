import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import type { ConvoyRecord } from '@convoy/kafka';
import { PartitionMerger, type MergerOptions } from './merger-handler.ts';
import { CollectingSink, InputLog, SOURCE } from './test-records.ts';

const OUT = 'convoy.ordered';
const LATE = 'convoy.ordered.late';
const DLQ = 'convoy.dlq';

function options(overrides: Partial<MergerOptions> = {}): MergerOptions {
  return {
    outputTopic: OUT,
    lateTopic: LATE,
    dlqTopic: DLQ,
    gapTimeoutMs: 1_000,
    latePolicy: 'route-late',
    neverDrop: false,
    capacity: 1_000,
    capacityBytes: 1_000_000,
    overflow: 'force-oldest-gap',
    ...overrides,
  };
}

function setup(overrides: Partial<MergerOptions> = {}) {
  const delays: number[] = [];
  const suspected: string[] = [];
  const merger = new PartitionMerger(options(overrides), {
    released: (_s, d) => delays.push(d),
    suspectedDrop: (s, from, to, cause) => suspected.push(`${s}:${from}-${to}:${cause}`),
  });
  const sink = new CollectingSink();
  const log = new InputLog();
  return { merger, sink, log, delays, suspected };
}

describe('PartitionMerger', () => {
  test('interleaved sub-streams come out in exact source order, data only, with the original record', () => {
    const { merger, sink, log } = setup();
    // seq s went to sub-stream s % 2; sub-stream 1 runs ahead of sub-stream 0.
    const batch = [
      log.data(1, 1),
      log.data(3, 1),
      log.data(0, 0),
      log.marker(3, 1),
      log.data(2, 0),
      log.data(5, 1),
      log.data(4, 0),
      log.marker(5, 1),
      log.marker(5, 0),
    ];
    merger.onRecords(batch.slice(0, 4), 10, sink);
    assert.deepEqual(sink.take(), [`${OUT}:0`, `${OUT}:1`]);
    merger.onRecords(batch.slice(4), 20, sink);
    const written = [...sink.records];
    assert.deepEqual(sink.take(), [`${OUT}:2`, `${OUT}:3`, `${OUT}:4`, `${OUT}:5`]);
    const first = written[0];
    assert.ok(first !== undefined);
    assert.equal(first.partition, 0);
    assert.equal(first.key?.toString(), 'c2');
    assert.equal(first.value?.toString(), 'v2');
    assert.equal(first.timestamp, batch[4]?.timestamp);
    assert.deepEqual(Object.keys(first.headers ?? {}).sort(), ['convoy-event-time', 'convoy-kind', 'convoy-prev', 'convoy-seq', 'convoy-source']);
    assert.equal(first.headers?.['convoy-event-time']?.toString(), '5002');
    assert.equal(merger.size, 0);
    assert.equal(merger.safeCommitOffset(), 9);
    const c = merger.counters;
    assert.equal(c.released, 6);
    assert.equal(c.markersIn, 3);
    assert.equal(c.dataIn, 6);
    assert.equal(c.recordsIn, 9);
  });

  test('filtered events are released past by markers alone: zero timeouts', () => {
    const { merger, sink, log, suspected } = setup();
    // 3 (sub 1) and 6 (sub 0) were filtered by the workers.
    merger.onRecords([log.data(0, 0), log.data(1, 1), log.data(2, 0), log.data(4, 0), log.data(5, 1)], 0, sink);
    assert.deepEqual(sink.take(), [`${OUT}:0`, `${OUT}:1`, `${OUT}:2`]);
    assert.equal(merger.nextDeadline(), 1_000);
    merger.onRecords([log.marker(5, 1)], 5, sink);
    assert.deepEqual(sink.take(), [], 'sub-stream 0 has not reported: 3 could still be on its way? no — but the proof needs every sub-stream');
    merger.onRecords([log.marker(5, 0)], 6, sink);
    assert.deepEqual(sink.take(), [`${OUT}:4`, `${OUT}:5`]);
    merger.onRecords([log.data(7, 1), log.data(8, 0), log.marker(8, 0), log.marker(8, 1)], 7, sink);
    assert.deepEqual(sink.take(), [`${OUT}:7`, `${OUT}:8`]);
    merger.onTick(1e9, sink);
    assert.deepEqual(sink.take(), []);
    assert.equal(merger.nextDeadline(), undefined);
    const c = merger.counters;
    assert.equal(c.gapsByTimeout, 0);
    assert.equal(c.gapsByMarker, 2);
    assert.deepEqual(suspected, []);
  });

  test('release delay is measured from arrival at the merger', () => {
    const { merger, sink, log, delays } = setup();
    merger.onRecords([log.data(0, 0), log.data(2, 0)], 100, sink);
    merger.onRecords([log.data(1, 1)], 350, sink);
    assert.deepEqual(sink.take(), [`${OUT}:0`, `${OUT}:1`, `${OUT}:2`]);
    assert.deepEqual(delays, [0, 0, 250]);
  });

  for (const policy of ['route-late', 'emit-flagged', 'drop'] as const) {
    test(`a silent sub-stream is skipped after the gap timeout; its late arrival is ${policy}`, () => {
      const { merger, sink, log, suspected } = setup({ latePolicy: policy, gapTimeoutMs: 500 });
      merger.onRecords([log.data(0, 0), log.data(2, 0), log.data(3, 0)], 100, sink);
      assert.deepEqual(sink.take(), [`${OUT}:0`]);
      assert.equal(merger.nextDeadline(), 600);
      merger.onTick(599, sink);
      assert.deepEqual(sink.take(), []);
      merger.onTick(600, sink);
      assert.deepEqual(sink.take(), [`${OUT}:2`, `${OUT}:3`]);
      assert.deepEqual(suspected, [`${SOURCE}:1-1:timeout`]);
      merger.onRecords([log.data(1, 1)], 700, sink);
      const expected = { 'route-late': [`${LATE}:late:1`], 'emit-flagged': [`${OUT}:late:1`], drop: [] }[policy];
      assert.deepEqual(sink.take(), expected);
      const c = merger.counters;
      assert.equal(c.gapsByTimeout, 1);
      assert.equal(c.lateRouted, policy === 'route-late' ? 1 : 0);
      assert.equal(c.lateEmitted, policy === 'emit-flagged' ? 1 : 0);
      assert.equal(c.lateDropped, policy === 'drop' ? 1 : 0);
      // A second copy of the late seq is a duplicate, whatever the policy.
      merger.onRecords([log.data(1, 1)], 800, sink);
      assert.deepEqual(sink.take(), []);
      assert.equal(merger.counters.duplicates, 1);
    });
  }

  test('route-late records keep key/value, go to the source partition of the late topic, with a reason', () => {
    const { merger, sink, log } = setup({ gapTimeoutMs: 10 });
    merger.onRecords([log.data(0, 0), log.data(2, 0)], 0, sink);
    merger.onTick(10, sink);
    sink.take();
    merger.onRecords([log.data(1, 1)], 20, sink);
    const late = sink.records[0];
    assert.equal(late?.topic, LATE);
    assert.equal(late?.partition, 0);
    assert.equal(late?.value?.toString(), 'v1');
    assert.equal(late?.headers?.['convoy-late']?.toString(), 'true');
    assert.match(late?.headers?.['convoy-late-reason']?.toString() ?? '', /released past/);
  });

  test('neverDrop forbids the drop policy at construction', () => {
    assert.throws(() => new PartitionMerger(options({ latePolicy: 'drop', neverDrop: true })), { code: 'MERGER_INVALID_OPTION' });
    assert.doesNotThrow(() => new PartitionMerger(options({ latePolicy: 'route-late', neverDrop: true })));
  });

  test('safe commit offset stays at the oldest held record until it is released', () => {
    const { merger, sink, log } = setup();
    assert.equal(merger.safeCommitOffset(), undefined);
    merger.onRecords([log.data(0, 0)], 0, sink); // offset 0, released
    assert.equal(merger.safeCommitOffset(), 1);
    merger.onRecords([log.data(2, 0), log.data(3, 0)], 0, sink); // offsets 1, 2 held (1 missing)
    assert.equal(merger.safeCommitOffset(), 1);
    merger.onRecords([log.marker(3, 0), log.data(5, 1)], 0, sink); // offsets 3, 4 (5 held)
    assert.equal(merger.safeCommitOffset(), 1);
    merger.onRecords([log.data(1, 1)], 0, sink); // offset 5 releases 1, 2, 3; 5 still held (offset 4)
    assert.deepEqual(sink.take(), [`${OUT}:0`, `${OUT}:1`, `${OUT}:2`, `${OUT}:3`]);
    assert.equal(merger.safeCommitOffset(), 4);
    merger.onRecords([log.marker(5, 1), log.marker(5, 0)], 0, sink); // 4 filtered: proven
    assert.deepEqual(sink.take(), [`${OUT}:5`]);
    assert.equal(merger.safeCommitOffset(), 8);
  });

  test('held fillers also hold back the commit offset', () => {
    const { merger, sink, log } = setup();
    merger.onRecords([log.data(0, 0), log.filler(2, 0)], 0, sink);
    assert.equal(merger.safeCommitOffset(), 1);
    merger.onRecords([log.data(1, 1)], 0, sink);
    assert.deepEqual(sink.take(), [`${OUT}:0`, `${OUT}:1`]);
    assert.equal(merger.safeCommitOffset(), 3);
    assert.equal(merger.lastReleased(SOURCE), 2);
    assert.equal(merger.counters.fillersIn, 1);
  });

  test('resume: replays at or below the last released seq are dropped as duplicates', () => {
    const { merger, sink, log } = setup();
    merger.resume(SOURCE, 4);
    merger.onRecords([log.data(3, 1), log.data(4, 0), log.marker(2, 0), log.data(5, 1), log.data(6, 0)], 0, sink);
    assert.deepEqual(sink.take(), [`${OUT}:5`, `${OUT}:6`]);
    assert.equal(merger.counters.duplicates, 2);
    assert.equal(merger.counters.gapsByTimeout, 0);
  });

  test('force-oldest-gap: a full buffer skips its oldest gap, counted as overflow', () => {
    const { merger, sink, log, suspected } = setup({ capacity: 2 });
    merger.onRecords([log.data(0, 0), log.data(2, 0), log.data(3, 0)], 0, sink);
    assert.deepEqual(sink.take(), [`${OUT}:0`]);
    merger.onRecords([log.data(5, 1)], 1, sink); // third held entry: the 1-gap is forced
    assert.deepEqual(sink.take(), [`${OUT}:2`, `${OUT}:3`]);
    assert.deepEqual(suspected, [`${SOURCE}:1-1:overflow`]);
    assert.equal(merger.counters.gapsByOverflow, 1);
    assert.equal(merger.size, 1);
  });

  test('back-pressure: the record that does not fit and all after it wait; commits stop at it; a tick drains', () => {
    const { merger, sink, log } = setup({ capacity: 2, overflow: 'back-pressure', gapTimeoutMs: 100 });
    merger.onRecords([log.data(0, 0), log.data(2, 0), log.data(3, 0), log.data(4, 0), log.marker(4, 0), log.data(6, 1)], 0, sink);
    assert.deepEqual(sink.take(), [`${OUT}:0`]);
    assert.equal(merger.size, 2);
    assert.equal(merger.wantsPause, true);
    assert.equal(merger.pendingCount, 3, 'seq 4, the marker behind it and seq 6');
    assert.equal(merger.safeCommitOffset(), 1);
    merger.onTick(50, sink);
    assert.equal(merger.wantsPause, true);
    merger.onTick(100, sink); // gap 1 times out: 2, 3 released; then 4, the marker, 6 go in
    assert.deepEqual(sink.take(), [`${OUT}:2`, `${OUT}:3`, `${OUT}:4`]);
    assert.equal(merger.wantsPause, false);
    assert.equal(merger.safeCommitOffset(), 5, 'seq 6 (offset 5) is held');
    assert.equal(merger.counters.rejectedFull, 2, 'each rejected attempt counts: the insert and the retry at 50');
  });

  test('malformed records and markers without a sub-stream count are dead-lettered, watermarks ignored', () => {
    const { merger, sink, log } = setup();
    merger.onRecords(
      [
        log.raw({}),
        log.raw({ 'convoy-kind': 'data', 'convoy-seq': 'x', 'convoy-source': SOURCE }),
        log.raw({ 'convoy-kind': 'progress', 'convoy-seq': '3', 'convoy-source': SOURCE, 'convoy-substream': '0' }),
        log.raw({ 'convoy-kind': 'watermark', 'convoy-seq': '3' }),
        log.marker(3, 5, 2),
        log.data(0, 0),
      ],
      0,
      sink,
    );
    assert.deepEqual(sink.take(), [
      'convoy.dlq:MERGER_MISSING_HEADER',
      'convoy.dlq:ENVELOPE_MALFORMED',
      'convoy.dlq:MERGER_INVALID_MARKER',
      'convoy.dlq:MERGER_INVALID_MARKER',
      `${OUT}:0`,
    ]);
    const c = merger.counters;
    assert.equal(c.deadLettered, 4);
    assert.equal(c.watermarksIgnored, 1);
    assert.equal(c.recordsIn, 6);
    assert.equal(merger.safeCommitOffset(), 6);
  });

  test('a later epoch needs convoy-epoch-start; the old epoch governs seqs below it', () => {
    const { merger, sink, log } = setup();
    merger.onRecords([log.data(0, 0), log.data(1, 1), log.data(3, 0)], 0, sink);
    // Rescale 2 → 3 at seq 4: the new epoch's markers must not release past 2 (still owed by epoch 0).
    merger.onRecords([log.marker(9, 0, 3, { 'convoy-epoch': 1, 'convoy-epoch-start': 4 }), log.marker(9, 1, 3, { 'convoy-epoch': 1, 'convoy-epoch-start': 4 }), log.marker(9, 2, 3, { 'convoy-epoch': 1, 'convoy-epoch-start': 4 })], 0, sink);
    assert.deepEqual(sink.take(), [`${OUT}:0`, `${OUT}:1`]);
    merger.onRecords([log.marker(3, 0), log.marker(3, 1)], 0, sink);
    assert.deepEqual(sink.take(), [`${OUT}:3`]);
    assert.equal(merger.lastReleased(SOURCE), 9);
  });

  test('rescale 2 → 4 at seq 6 as the splitter writes it: closing round of epoch 0, then epoch 1 with its start; a restart resumes in epoch 1', () => {
    const { merger, sink, log, suspected } = setup();
    const e1 = (extra: Record<string, string | number> = {}) => ({ 'convoy-epoch': 1, 'convoy-epoch-start': 6, ...extra });
    const d1 = (seq: number) => log.data(seq, seq % 4, { extra: { 'convoy-epoch': '1' } });
    // Epoch 0 (sub = seq % 2): 0..4 arrive, 5 is filtered. Epoch 1 (sub = seq % 4) starts at 6.
    merger.onRecords([log.data(0, 0), log.data(1, 1), log.data(2, 0), log.data(3, 1), log.data(4, 0)], 10, sink);
    assert.deepEqual(sink.take(), [`${OUT}:0`, `${OUT}:1`, `${OUT}:2`, `${OUT}:3`, `${OUT}:4`]);
    // New-epoch data and markers overtake the old sub-streams' closing round: they prove nothing below 6.
    merger.onRecords([d1(6), log.marker(6, 2, 4, e1()), d1(7), log.marker(7, 3, 4, e1()), log.marker(5, 0, 2)], 20, sink);
    assert.deepEqual(sink.take(), []);
    assert.equal(merger.safeCommitOffset(), 5, 'seq 6 is held: the commit stays below its input offset');
    // The last closing marker completes epoch 0: 5 was dropped, 6 and 7 follow at once.
    merger.onRecords([log.marker(5, 1, 2)], 30, sink);
    assert.deepEqual(sink.take(), [`${OUT}:6`, `${OUT}:7`]);
    // Epoch 1 alone now: 9 is filtered, its markers resolve it.
    merger.onRecords([d1(8), d1(10), d1(11), ...[0, 1, 2, 3].map((sub) => log.marker(11, sub, 4, e1()))], 40, sink);
    assert.deepEqual(sink.take(), [`${OUT}:8`, `${OUT}:10`, `${OUT}:11`]);
    // A late epoch-0 marker (the splitter re-announces the closing round after its restarts) is ignored.
    merger.onRecords([log.marker(5, 0, 2)], 50, sink);
    assert.deepEqual(sink.take(), []);
    assert.equal(merger.counters.gapsByTimeout, 0);
    assert.equal(merger.counters.gapsByMarker, 2);
    assert.equal(merger.counters.deadLettered, 0);
    assert.deepEqual(suspected, []);
    assert.equal(merger.safeCommitOffset(), log.records.length);

    // Restart: resume from the output tail (11); the input is re-read from the committed offset on.
    const restarted = setup();
    restarted.merger.resume(SOURCE, 11);
    const more = restarted.log;
    const m1 = (seq: number) => more.data(seq, seq % 4, { extra: { 'convoy-epoch': '1' } });
    // Half of the re-announced closing round lies before the committed offset: the other half proves
    // nothing beyond the resume point and must not make epoch 0 block epoch 1.
    restarted.merger.onRecords([more.marker(5, 1, 2), m1(12), m1(14), more.marker(11, 0, 4, e1())], 60, restarted.sink);
    assert.deepEqual(restarted.sink.take(), [`${OUT}:12`]);
    assert.equal(restarted.merger.counters.markersBelowResume, 2, 'the closing marker and the first epoch-1 marker at the resume point');
    restarted.merger.onRecords([1, 2, 3].map((sub) => more.marker(14, sub, 4, e1())), 70, restarted.sink);
    assert.deepEqual(restarted.sink.take(), []);
    restarted.merger.onRecords([more.marker(14, 0, 4, e1())], 80, restarted.sink);
    assert.deepEqual(restarted.sink.take(), [`${OUT}:14`]);
    assert.equal(restarted.merger.counters.gapsByTimeout, 0);
    assert.equal(restarted.merger.counters.deadLettered, 0);
  });

  test('rescale 4 → 2: markers of epoch 2 start a later epoch after epoch 1; a later epoch without its start is dead-lettered', () => {
    const { merger, sink, log } = setup();
    const e1 = { 'convoy-epoch': 1, 'convoy-epoch-start': 3 };
    const e2 = { 'convoy-epoch': 2, 'convoy-epoch-start': 5 };
    merger.onRecords([log.data(0, 0), log.data(1, 1), log.data(2, 0)], 0, sink);
    merger.onRecords([log.data(3, 3, { extra: { 'convoy-epoch': '1' } }), log.data(6, 0, { extra: { 'convoy-epoch': '2' } })], 0, sink);
    assert.deepEqual(sink.take(), [`${OUT}:0`, `${OUT}:1`, `${OUT}:2`, `${OUT}:3`]);
    // Epoch 2's markers say 5..6 are done; 4 (filtered in epoch 1) stays open until epoch 1 closes.
    merger.onRecords([log.marker(6, 0, 2, e2), log.marker(6, 1, 2, e2), log.marker(6, 0, 2, { 'convoy-epoch': 3 })], 0, sink);
    assert.deepEqual(sink.take(), [`${DLQ}:MERGER_INVALID_MARKER`]);
    merger.onRecords([0, 1, 2, 3].map((sub) => log.marker(4, sub, 4, e1)), 0, sink);
    assert.deepEqual(sink.take(), [`${OUT}:6`]);
    assert.equal(merger.lastReleased(SOURCE), 6);
    assert.equal(merger.counters.gapsByTimeout, 0);
  });
});

/**
 * Crash model: the shell commits, in one transaction, the output so far and `safeCommitOffset()`.
 * After a crash the next merger resumes from the last in-order seq of the committed output and
 * re-consumes the input from the committed offset. The committed output must be exactly the
 * surviving seqs in order, with no duplicate, whatever the interleaving and crash points.
 */
describe('PartitionMerger restarts (property)', () => {
  test('kill at any batch boundary: no duplicate, no loss, order kept; commits never pass a held record', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 3 }),
        fc.array(fc.boolean(), { minLength: 40, maxLength: 40 }),
        fc.array(fc.nat(), { minLength: 60, maxLength: 60 }),
        fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 30 }),
        fc.array(fc.boolean(), { minLength: 30, maxLength: 30 }),
        (n, subs, keep, picks, batchSizes, crashes) => {
          // Each sub-stream's records in position: its data (unless filtered) and a marker round
          // every 5 seqs, plus a last round (markers keep flowing in production).
          const log = new InputLog();
          const streams: (() => ConvoyRecord)[][] = Array.from({ length: subs }, () => []);
          for (let s = 0; s < n; s++) {
            const sub = s % subs;
            if (keep[s] !== false) streams[sub]?.push(() => log.data(s, sub));
            if (s % 5 === 4) for (let k = 0; k < subs; k++) streams[k]?.push(() => log.marker(s, k, subs));
          }
          // Interleave the sub-streams randomly into the input partition, each in its own order.
          let i = 0;
          for (let live = streams.filter((q) => q.length > 0); live.length > 0; live = streams.filter((q) => q.length > 0)) {
            const q = live[(picks[i++ % picks.length] ?? 0) % live.length] as (() => ConvoyRecord)[];
            (q.shift() as () => ConvoyRecord)();
          }
          for (let k = 0; k < subs; k++) log.marker(n - 1, k, subs);
          const input = log.records;
          const expected = Array.from({ length: n }, (_, s) => s).filter((s) => keep[s] !== false);

          const fresh = () => new PartitionMerger(options({ gapTimeoutMs: Number.POSITIVE_INFINITY }));
          const committed: number[] = [];
          let merger = fresh();
          let next = 0; // next offset to fetch
          let crashCount = 0;
          for (let b = 0; next < input.length || merger.size > 0; b++) {
            assert.ok(b < 1_000, 'no progress');
            const sink = new CollectingSink();
            const batch = input.slice(next, next + (batchSizes[b % batchSizes.length] ?? 1));
            merger.onRecords(batch, b, sink);
            next += batch.length;
            const safe = merger.safeCommitOffset() as number;
            assert.ok(safe <= next);
            // One transaction: this batch's output and `safe` commit together.
            committed.push(...sink.records.map((r) => Number(r.headers?.['convoy-seq']?.toString())));
            if (crashes[b % crashes.length] === true && crashCount < 5) {
              crashCount++;
              merger = fresh();
              const last = committed.at(-1);
              if (last !== undefined) merger.resume(SOURCE, last);
              next = safe;
            }
          }
          assert.deepEqual(committed, expected);
        },
      ),
      { numRuns: 300 },
    );
  });
});
