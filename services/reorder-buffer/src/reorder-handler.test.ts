import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ConvoyRecord, OutgoingRecord, RecordHeaders } from '@convoy/kafka';
import { FixedSlack } from '@convoy/ordering';
import { PartitionReorder, type ReorderInput, type RecordSink } from './reorder-handler.ts';
import { resumePointFromTail, tailIsEnough } from './resume-point.ts';
import { reorderOptions as options } from './test-fixtures.ts';

// Input records built by hand (not with the envelope codec) so tests share no code with what they check.
class Log {
  readonly records: ConvoyRecord[] = [];
  add(key: string | null, h: Record<string, string | number>, timestamp = 0): ReorderInput {
    const headers: RecordHeaders = {};
    for (const [k, v] of Object.entries(h)) headers[k] = Buffer.from(String(v));
    const record: ConvoyRecord = { topic: 'in', partition: 0, offset: this.records.length, timestamp, key: key === null ? null : Buffer.from(key), value: Buffer.from('v'), headers };
    this.records.push(record);
    return { record };
  }
  data(stream: string, seq: number): ReorderInput {
    return this.add(stream, { 'convoy-seq': seq });
  }
  timed(stream: string, t: number): ReorderInput {
    return this.add(stream, {}, t);
  }
}

class Sink implements RecordSink {
  readonly records: OutgoingRecord[] = [];
  send(record: OutgoingRecord): void {
    this.records.push(record);
  }
  /** `topic:stream:seq|time[:late]` or `dlq:<code>`; then cleared. */
  take(): string[] {
    const out = this.records.map((r) => {
      const h = (n: string) => r.headers?.[n]?.toString();
      if (h('convoy-error-code') !== undefined) return `dlq:${h('convoy-error-code')}`;
      return `${r.topic}:${h('convoy-reorder-stream')}:${h('convoy-seq') ?? h('convoy-event-time')}${h('convoy-late') === 'true' ? ':late' : ''}`;
    });
    this.records.length = 0;
    return out;
  }
}

test('sequence: per-stream order, gap held until it fills, commit stays at the oldest held record', () => {
  const log = new Log();
  const sink = new Sink();
  const h = new PartitionReorder(options());
  h.onRecords([log.data('a', 0), log.data('a', 2), log.data('b', 0), log.data('a', 3)], 0, sink);
  assert.deepEqual(sink.take(), ['out:a:0', 'out:b:0']);
  assert.equal(h.safeCommitOffset(), 1); // a:2 at offset 1 is held
  assert.equal(h.nextDeadline(), 100);
  h.onRecords([log.data('a', 1)], 10, sink);
  assert.deepEqual(sink.take(), ['out:a:1', 'out:a:2', 'out:a:3']);
  assert.equal(h.safeCommitOffset(), 5);
  assert.equal(h.nextDeadline(), undefined);
});

test('sequence: a filler and an "up to S" progress marker close gaps without waiting', () => {
  const log = new Log();
  const sink = new Sink();
  const h = new PartitionReorder(options());
  h.onRecords([log.data('a', 0), log.data('a', 2), log.add('a', { 'convoy-kind': 'filler', 'convoy-seq': 1 })], 0, sink);
  assert.deepEqual(sink.take(), ['out:a:0', 'out:a:2']);
  h.onRecords([log.data('a', 6), log.add('a', { 'convoy-kind': 'progress', 'convoy-seq': 5 })], 1, sink);
  assert.deepEqual(sink.take(), ['out:a:6']);
  assert.equal(h.counters.gapsByFiller, 1);
  assert.equal(h.counters.gapsByMarker, 1);
  assert.equal(h.counters.gapsByTimeout, 0);
  assert.equal(h.safeCommitOffset(), 5);
});

for (const [policy, expected, count] of [
  ['route-late', ['out.late:a:1:late'], 'lateRouted'],
  ['emit-flagged', ['out:a:1:late'], 'lateEmitted'],
  ['drop', [], 'lateDropped'],
] as const) {
  test(`sequence: timeout skips a silent gap; the late arrival follows ${policy}`, () => {
    const log = new Log();
    const sink = new Sink();
    const h = new PartitionReorder(options({ policyOf: () => policy }));
    h.onRecords([log.data('a', 0), log.data('a', 2)], 0, sink);
    assert.deepEqual(sink.take(), ['out:a:0']);
    h.onTick(99, sink);
    assert.deepEqual(sink.take(), []);
    h.onTick(100, sink);
    assert.deepEqual(sink.take(), ['out:a:2']);
    assert.equal(h.counters.gapsByTimeout, 1);
    h.onRecords([log.data('a', 1)], 200, sink);
    assert.deepEqual(sink.take(), expected);
    assert.equal(h.counters[count], 1);
    h.onRecords([log.data('a', 1)], 201, sink); // a second copy is a duplicate
    assert.deepEqual(sink.take(), []);
    assert.equal(h.counters.duplicates, 1);
  });
}

test('never-drop: a stream whose policy resolves to drop is refused on its first event', () => {
  const log = new Log();
  const h = new PartitionReorder(options({ policyOf: () => 'drop', neverDrop: (s) => s === 'card' }));
  assert.throws(() => h.onRecords([log.data('card', 0)], 0, new Sink()), /never-drop/);
});

test('bad records go to the DLQ with a reason: no stream key, no seq, unknown kind', () => {
  const log = new Log();
  const sink = new Sink();
  const h = new PartitionReorder(options());
  h.onRecords([log.add(null, { 'convoy-seq': 0 }), log.add('a', {}), log.add('a', { 'convoy-seq': 'x' }), log.add('a', { 'convoy-kind': 'bogus' })], 0, sink);
  assert.deepEqual(sink.take(), ['dlq:REORDER_MISSING_STREAM_KEY', 'dlq:REORDER_INVALID_SEQ', 'dlq:REORDER_INVALID_SEQ', 'dlq:REORDER_UNKNOWN_KIND']);
  assert.equal(h.safeCommitOffset(), 4);
});

test('event-time: fixed slack releases in event-time order; idle flush via nextDeadline; late policy', () => {
  const log = new Log();
  const sink = new Sink();
  const h = new PartitionReorder(options({ mode: 'event-time', estimator: () => new FixedSlack(10), policyOf: () => 'emit-flagged' }));
  h.onRecords([log.timed('s', 100), log.timed('s', 95), log.timed('s', 103), log.timed('s', 111)], 0, sink);
  assert.deepEqual(sink.take(), ['out:s:95', 'out:s:100']);
  assert.equal(h.safeCommitOffset(), 2);
  assert.equal(h.nextDeadline(), 500);
  h.onTick(500, sink);
  assert.deepEqual(sink.take(), ['out:s:103', 'out:s:111']);
  assert.equal(h.counters.gapsByTimeout, 2);
  h.onRecords([log.timed('s', 104)], 600, sink);
  assert.deepEqual(sink.take(), ['out:s:104:late']);
  assert.deepEqual([...h.slackByStream()], [['s', 10]]);
  assert.equal(h.safeCommitOffset(), 5);
});

test('event-time: a watermark record releases a stream up to its time', () => {
  const log = new Log();
  const sink = new Sink();
  const h = new PartitionReorder(options({ mode: 'event-time', estimator: () => new FixedSlack(1000) }));
  h.onRecords([log.timed('s', 5), log.timed('s', 3), log.add('s', { 'convoy-kind': 'watermark', 'convoy-event-time': 4 })], 0, sink);
  assert.deepEqual(sink.take(), ['out:s:3']);
});

test('restart (sequence): the tail gives the resume point; replays are duplicates, first arrivals behind it are late', () => {
  const log = new Log();
  const sink = new Sink();
  const before = new PartitionReorder(options());
  const first = [log.data('a', 0), log.data('a', 1), log.data('a', 3), log.data('b', 0)];
  before.onRecords(first, 0, sink);
  const committed = before.safeCommitOffset() as number; // a:3 is held → 2
  assert.equal(committed, 2);
  const written = sink.records.map((r, i) => ({ topic: 'out', partition: 0, offset: i, timestamp: 0, key: r.key as Buffer | null, value: null, headers: r.headers ?? {} }));
  sink.take();
  assert.equal(tailIsEnough(committed)(written), true);
  const point = resumePointFromTail(written, 'sequence');
  assert.deepEqual([...point.last], [['a', 1], ['b', 0]]);
  assert.equal(point.consumed, 4);

  const after = new PartitionReorder(options({ policyOf: () => 'emit-flagged' }));
  after.resume(point);
  // Re-consumed from the committed offset 2: a:3 (held before) and b:0 (already released), then new input.
  after.onRecords([first[2] as ReorderInput, first[3] as ReorderInput, log.data('a', 2), log.data('b', 0)], 10, sink);
  // a:2 fills the gap → a:2, a:3 in order; the new b:0 (offset 5 ≥ consumed 4) is behind the resume point: late, never lost.
  assert.deepEqual(sink.take(), ['out:a:2', 'out:a:3', 'out:b:0:late']);
  assert.equal(after.counters.resumeDuplicates, 1);
  assert.equal(after.counters.resumeLate, 1);
});

test('restart (event-time): ties at the resume time before `consumed` are duplicates, after it they are new', () => {
  const log = new Log();
  const sink = new Sink();
  const h = new PartitionReorder(options({ mode: 'event-time', estimator: () => new FixedSlack(0) }));
  h.resume({ consumed: 2, last: new Map([['s', 50]]) });
  h.onRecords([log.timed('s', 50), log.timed('s', 40), log.timed('s', 50), log.timed('s', 60)], 0, sink);
  assert.deepEqual(sink.take(), ['out:s:50', 'out:s:60']);
  assert.equal(h.counters.resumeDuplicates, 2);
});

test('overflow: count cap forces the oldest gap, counted', () => {
  const log = new Log();
  const sink = new Sink();
  const h = new PartitionReorder(options({ capacity: 2 }));
  h.onRecords([log.data('a', 0), log.data('a', 2), log.data('a', 4), log.data('a', 6)], 0, sink);
  assert.deepEqual(sink.take(), ['out:a:0', 'out:a:2']);
  assert.equal(h.counters.gapsByOverflow, 1);
  assert.ok(h.size <= 2);
});

test('back-pressure: a record that does not fit waits in pending and the commit stays below it', () => {
  const log = new Log();
  const sink = new Sink();
  const h = new PartitionReorder(options({ capacity: 1, overflow: 'back-pressure' }));
  h.onRecords([log.data('a', 1), log.data('a', 2), log.data('a', 0)], 0, sink);
  assert.deepEqual(sink.take(), []);
  assert.equal(h.wantsPause, true);
  assert.equal(h.safeCommitOffset(), 0);
  h.onTick(100, sink); // a:1 times out (gap 0 skipped), then a:2 and a:0 are retried
  assert.deepEqual(sink.take(), ['out:a:1', 'out:a:2', 'out.late:a:0:late']);
  assert.equal(h.wantsPause, false);
  assert.equal(h.safeCommitOffset(), 3);
});
