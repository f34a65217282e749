import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RecordingOutput } from './recording-output.ts';
import { SequenceReorderBuffer, type SequenceReorderOptions } from './sequence-reorder-buffer.ts';

interface Ev {
  seq: number;
  prev?: number;
  bytes?: number;
  tag?: string;
}

const seqOf = (e: Ev) => e.seq;

function setup(options: Partial<SequenceReorderOptions> = {}) {
  const out = new RecordingOutput<Ev>();
  const buf = new SequenceReorderBuffer<Ev>({ timeout: 100, ...options }, out);
  const take = () => out.take(seqOf);
  return { out, buf, take };
}

describe('SequenceReorderBuffer', () => {
  test('in-order events take the fast path and never touch the heap', () => {
    const { buf, take } = setup();
    assert.equal(buf.insert('p', { seq: 0 }, 0), 'delivered');
    assert.equal(buf.insert('p', { seq: 1 }, 0), 'delivered');
    assert.equal(buf.insert('p', { seq: 2 }, 0), 'delivered');
    assert.deepEqual(take(), ['d:p:0', 'd:p:1', 'd:p:2']);
    assert.equal(buf.counters.deliveredFastPath, 3);
    assert.equal(buf.size, 0);
    assert.equal(buf.lastReleased('p'), 2);
    assert.equal(buf.nextDeadline(), undefined);
  });

  test('streams are independent', () => {
    const { buf, take } = setup();
    buf.insert('a', { seq: 1 }, 0);
    buf.insert('b', { seq: 0 }, 0);
    buf.insert('a', { seq: 0 }, 0);
    assert.deepEqual(take(), ['d:b:0', 'd:a:0', 'd:a:1']);
  });

  test('a gap holds later events until the missing one arrives', () => {
    const { buf, take } = setup();
    buf.insert('p', { seq: 0 }, 0);
    assert.equal(buf.insert('p', { seq: 3 }, 1), 'buffered');
    assert.equal(buf.insert('p', { seq: 2 }, 2), 'buffered');
    assert.deepEqual(take(), ['d:p:0']);
    assert.equal(buf.insert('p', { seq: 1 }, 3), 'delivered');
    assert.deepEqual(take(), ['d:p:1', 'd:p:2', 'd:p:3']);
    assert.equal(buf.size, 0);
  });

  test('a filler closes its gap at once without output', () => {
    const { buf, take } = setup();
    buf.insert('p', { seq: 0 }, 0);
    buf.insert('p', { seq: 2 }, 0);
    buf.insert('p', { seq: 3 }, 0);
    assert.equal(buf.fill('p', { seq: 1 }, 5), 'applied');
    assert.deepEqual(take(), ['d:p:0', 'd:p:2', 'd:p:3']);
    assert.equal(buf.counters.fillersApplied, 1);
    assert.equal(buf.counters.gapsClosedByTimeout, 0);
  });

  test('a filler that arrives before its predecessor is held like an event', () => {
    const { buf, take } = setup();
    buf.insert('p', { seq: 0 }, 0);
    assert.equal(buf.fill('p', { seq: 2 }, 0), 'buffered');
    buf.insert('p', { seq: 3 }, 0);
    assert.equal(buf.size, 2);
    buf.insert('p', { seq: 1 }, 0);
    assert.deepEqual(take(), ['d:p:0', 'd:p:1', 'd:p:3']);
    assert.equal(buf.fill('p', { seq: 2 }, 0), 'ignored');
    assert.equal(buf.counters.fillersIgnored, 1);
  });

  test('"all before n" releases held events below n, moves the floor, then keeps releasing', () => {
    const { buf, take } = setup();
    buf.insert('p', { seq: 0 }, 0);
    buf.insert('p', { seq: 3 }, 0);
    buf.insert('p', { seq: 5 }, 0);
    buf.insert('p', { seq: 9 }, 0);
    buf.markAllBefore('p', 5);
    // 1-2 missing before 3, 4 missing before 5; 9 still waits for 6-8.
    assert.deepEqual(take(), ['d:p:0', 'd:p:3', 'd:p:5']);
    assert.equal(buf.counters.gapsClosedByMarker, 2);
    assert.equal(buf.lastReleased('p'), 5);
    assert.equal(buf.sizeOf('p'), 1);
    buf.markAllBefore('p', 3);
    assert.deepEqual(take(), []);
    assert.equal(buf.counters.gapsClosedByMarker, 2);
    assert.equal(buf.counters.gapsClosedByTimeout, 0);
    // A seq the marker declared done is a duplicate, not late.
    assert.equal(buf.insert('p', { seq: 4 }, 1), 'duplicate');
  });

  test('a marker with nothing missing counts no gap', () => {
    const { buf } = setup();
    buf.insert('p', { seq: 0 }, 0);
    buf.insert('p', { seq: 1 }, 0);
    buf.markAllBefore('p', 2);
    assert.equal(buf.counters.gapsClosedByMarker, 0);
  });

  test('a timeout skips the whole missing run in one step, measured from when the gap was first observable', () => {
    const { buf, take } = setup({ timeout: 100 });
    buf.insert('p', { seq: 0 }, 0);
    buf.insert('p', { seq: 5 }, 10);
    buf.insert('p', { seq: 7 }, 20);
    assert.equal(buf.nextDeadline(), 110);
    buf.deliverExpired(109);
    assert.deepEqual(take(), ['d:p:0']);
    buf.deliverExpired(110);
    assert.deepEqual(take(), ['s:p:1-4:timeout', 'd:p:5']);
    assert.equal(buf.nextDeadline(), 120);
    buf.deliverExpired(120);
    assert.deepEqual(take(), ['s:p:6-6:timeout', 'd:p:7']);
    assert.equal(buf.counters.gapsClosedByTimeout, 2);
    assert.equal(buf.counters.seqsSkippedByTimeout, 5);
    assert.equal(buf.nextDeadline(), undefined);
  });

  test('gaps behind events that all waited the timeout are skipped in the same call', () => {
    const { buf, take } = setup({ timeout: 100 });
    buf.insert('p', { seq: 3 }, 0);
    buf.insert('p', { seq: 6 }, 0);
    buf.deliverExpired(100);
    assert.deepEqual(take(), ['s:p:0-2:timeout', 'd:p:3', 's:p:4-5:timeout', 'd:p:6']);
  });

  test('an insert on the stream also applies an expired timeout', () => {
    const { buf, take } = setup({ timeout: 100 });
    buf.insert('p', { seq: 2 }, 0);
    assert.equal(buf.insert('p', { seq: 4 }, 150), 'buffered');
    assert.deepEqual(take(), ['s:p:0-1:timeout', 'd:p:2']);
    // Seq 3 is only known missing since 4 arrived at 150.
    assert.equal(buf.nextDeadline(), 250);
  });

  test('the missing event arriving after its deadline but before the tick is still delivered in order', () => {
    const { buf, take } = setup({ timeout: 100 });
    buf.insert('p', { seq: 1 }, 0);
    assert.equal(buf.insert('p', { seq: 0 }, 500), 'delivered');
    assert.deepEqual(take(), ['d:p:0', 'd:p:1']);
    assert.equal(buf.counters.gapsClosedByTimeout, 0);
  });

  test('timeout Infinity waits for fillers and markers only', () => {
    const { buf, take } = setup({ timeout: Number.POSITIVE_INFINITY });
    buf.insert('p', { seq: 1 }, 0);
    buf.deliverExpired(1e15);
    assert.equal(buf.nextDeadline(), undefined);
    assert.deepEqual(take(), []);
  });

  test('duplicates of released and of held events are dropped and counted', () => {
    const { buf, take } = setup();
    buf.insert('p', { seq: 0 }, 0);
    buf.insert('p', { seq: 2, tag: 'first' }, 0);
    assert.equal(buf.insert('p', { seq: 0 }, 0), 'duplicate');
    assert.equal(buf.insert('p', { seq: 2, tag: 'second' }, 0), 'duplicate');
    buf.insert('p', { seq: 1 }, 0);
    assert.deepEqual(take(), ['d:p:0', 'x:p:0:duplicate', 'x:p:2:duplicate', 'd:p:1', 'd:p:2']);
    assert.equal(buf.counters.duplicates, 2);
  });

  for (const [policy, expected] of [
    ['emit-flagged', 'l:p:2:emit-flagged'],
    ['route-late', 'l:p:2:route-late'],
    ['drop', 'x:p:2:late'],
  ] as const) {
    test(`late policy ${policy}: an event for a timed-out seq leaves once that way, a second copy is a duplicate`, () => {
      const { buf, take } = setup({ timeout: 10, latePolicy: policy });
      buf.insert('p', { seq: 0 }, 0);
      buf.insert('p', { seq: 4 }, 0);
      buf.deliverExpired(10);
      assert.deepEqual(take(), ['d:p:0', 's:p:1-3:timeout', 'd:p:4']);
      assert.equal(buf.insert('p', { seq: 2 }, 20), 'late');
      assert.equal(buf.insert('p', { seq: 2 }, 21), 'duplicate');
      assert.equal(buf.insert('p', { seq: 3 }, 22), 'late');
      assert.deepEqual(take(), [expected, 'x:p:2:duplicate', expected.replace(':2', ':3')]);
      const c = buf.counters;
      assert.deepEqual([c.lateEmitted, c.lateRouted, c.lateDropped], [
        policy === 'emit-flagged' ? 2 : 0,
        policy === 'route-late' ? 2 : 0,
        policy === 'drop' ? 2 : 0,
      ]);
    });
  }

  test('late policy per stream: map, function and default', () => {
    const { buf } = setup({
      latePolicy: { cards: 'emit-flagged' },
      defaultLatePolicy: 'drop',
    });
    assert.equal(buf.policyOf('cards'), 'emit-flagged');
    assert.equal(buf.policyOf('sensors'), 'drop');
    const fn = setup({ latePolicy: (s) => (s.startsWith('tx') ? 'route-late' : undefined), defaultLatePolicy: 'drop' });
    assert.equal(fn.buf.policyOf('tx-1'), 'route-late');
    assert.equal(fn.buf.policyOf('s-1'), 'drop');
  });

  test('a never-drop stream whose policy would be drop is a configuration error', () => {
    const out = new RecordingOutput<Ev>();
    const fails = (options: Partial<SequenceReorderOptions>) =>
      assert.throws(() => new SequenceReorderBuffer<Ev>({ timeout: 1, ...options }, out), { code: 'ORDERING_INVALID_OPTION' });
    fails({ defaultLatePolicy: 'drop', neverDrop: ['cards'] });
    fails({ latePolicy: { cards: 'drop' }, neverDrop: ['cards'] });
    fails({ latePolicy: 'drop', neverDrop: ['cards'] });
    const lazy = new SequenceReorderBuffer<Ev>(
      { timeout: 1, latePolicy: () => 'drop', neverDrop: (s) => s === 'cards' },
      out,
    );
    assert.equal(lazy.insert('sensors', { seq: 0 }, 0), 'delivered');
    assert.throws(() => lazy.insert('cards', { seq: 0 }, 0), { code: 'ORDERING_INVALID_OPTION' });
    assert.doesNotThrow(() => new SequenceReorderBuffer<Ev>({ timeout: 1, defaultLatePolicy: 'route-late', neverDrop: ['cards'] }, out));
  });

  test('invalid options are rejected once at construction', () => {
    const out = new RecordingOutput<Ev>();
    for (const bad of [{ timeout: -1 }, { timeout: 1, capacity: 0 }, { timeout: 1, overflow: 'spill' as never }, { timeout: Number.NaN }]) {
      assert.throws(() => new SequenceReorderBuffer<Ev>(bad as SequenceReorderOptions, out), { code: 'ORDERING_INVALID_OPTION' });
    }
  });

  test('overflow force-oldest-gap skips the oldest gap as if it timed out, counted as forced', () => {
    const { buf, take } = setup({ capacity: 2, timeout: 1000 });
    buf.insert('a', { seq: 2 }, 0); // gap a:0-1, observed at 0
    buf.insert('b', { seq: 1 }, 5); // gap b:0, observed at 5
    assert.equal(buf.insert('b', { seq: 3 }, 6), 'buffered');
    assert.deepEqual(take(), ['s:a:0-1:overflow', 'd:a:2']);
    assert.equal(buf.size, 2);
    assert.equal(buf.counters.gapsClosedByOverflow, 1);
    assert.equal(buf.counters.seqsSkippedByOverflow, 2);
    assert.equal(buf.insert('a', { seq: 1 }, 7), 'late');
  });

  test('overflow by bytes', () => {
    const { buf, take } = setup({ capacityBytes: 100, timeout: 1000 });
    buf.insert('p', { seq: 1, bytes: 60 }, 0);
    buf.insert('p', { seq: 3, bytes: 60 }, 1);
    assert.deepEqual(take(), ['s:p:0-0:overflow', 'd:p:1']);
    assert.equal(buf.bytes, 60);
    assert.equal(buf.bytesOf('p'), 60);
  });

  test('overflow back-pressure rejects what would need holding; the next event is never rejected', () => {
    const { buf, take } = setup({ capacity: 2, overflow: 'back-pressure' });
    buf.insert('p', { seq: 2 }, 0);
    buf.insert('p', { seq: 3 }, 0);
    assert.equal(buf.insert('p', { seq: 5 }, 0), 'rejected-full');
    assert.equal(buf.fill('p', { seq: 4 }, 0), 'rejected-full');
    assert.deepEqual(take(), []);
    assert.equal(buf.size, 2);
    assert.equal(buf.counters.rejectedFull, 1);
    assert.equal(buf.counters.fillersRejectedFull, 1);
    assert.equal(buf.insert('p', { seq: 0 }, 0), 'delivered');
    assert.equal(buf.insert('p', { seq: 1 }, 0), 'delivered');
    assert.equal(buf.insert('p', { seq: 5 }, 0), 'buffered');
    assert.deepEqual(take(), ['d:p:0', 'd:p:1', 'd:p:2', 'd:p:3']);
    assert.equal(buf.counters.gapsClosedByOverflow, 0);
  });

  test('back-pressure still accepts an event larger than the whole byte cap, forcing its gap', () => {
    const { buf, take } = setup({ capacityBytes: 10, overflow: 'back-pressure' });
    assert.equal(buf.insert('p', { seq: 1, bytes: 50 }, 0), 'buffered');
    assert.deepEqual(take(), ['s:p:0-0:overflow', 'd:p:1']);
    assert.equal(buf.size, 0);
  });

  test('resume seeds the floor after a restart; replays are duplicates', () => {
    const { buf, take } = setup();
    buf.resume('p', 41);
    assert.equal(buf.insert('p', { seq: 40 }, 0), 'duplicate');
    assert.equal(buf.insert('p', { seq: 42 }, 0), 'delivered');
    assert.deepEqual(take(), ['x:p:40:duplicate', 'd:p:42']);
    buf.insert('p', { seq: 44 }, 0);
    assert.throws(() => buf.resume('p', 50), { code: 'ORDERING_RESUME_CONFLICT' });
  });

  test('firstSeq sets where a new stream starts', () => {
    const { buf, take } = setup({ firstSeq: 1 });
    buf.insert('p', { seq: 1 }, 0);
    assert.deepEqual(take(), ['d:p:1']);
  });

  test('predecessor links: offset gaps that never carry data do not block', () => {
    const { buf, take } = setup();
    buf.resume('p', 9);
    buf.insert('p', { seq: 10, prev: 9 }, 0);
    buf.insert('p', { seq: 15, prev: 13 }, 0); // 11-12 hold transaction markers; 13 is data still missing
    buf.insert('p', { seq: 13, prev: 10 }, 0);
    assert.deepEqual(take(), ['d:p:10', 'd:p:13', 'd:p:15']);
    buf.insert('p', { seq: 20, prev: 18 }, 0);
    buf.deliverExpired(100);
    assert.deepEqual(take(), ['s:p:16-18:timeout', 'd:p:20']);
  });

  test('oldestBuffered is by arrival (for offset commits); depth per stream', () => {
    const { buf } = setup();
    const five = { seq: 5 };
    buf.insert('p', five, 0);
    buf.insert('p', { seq: 3 }, 1);
    buf.fill('p', { seq: 2 }, 2);
    assert.equal(buf.oldestBuffered('p'), five);
    assert.equal(buf.sizeOf('p'), 3);
    assert.equal(buf.oldestBuffered('q'), undefined);
    buf.markAllBefore('p', 4);
    assert.equal(buf.oldestBuffered('p'), five);
    buf.insert('p', { seq: 4 }, 3);
    assert.equal(buf.oldestBuffered('p'), undefined);
    assert.equal(buf.size, 0);
  });

  test('evict hands held events back in arrival order', () => {
    const { buf, take } = setup();
    buf.insert('p', { seq: 5 }, 0);
    buf.insert('p', { seq: 3 }, 1);
    assert.deepEqual(buf.evict('p').map(seqOf), [5, 3]);
    assert.equal(buf.size, 0);
    assert.equal(buf.lastReleased('p'), undefined);
    assert.equal(buf.nextDeadline(), undefined);
    assert.deepEqual(take(), []);
    assert.equal(buf.counters.evicted, 2);
  });

  test('skipped runs beyond lateRangeMemory are assumed late, never duplicate', () => {
    const { buf, take } = setup({ timeout: 1, lateRangeMemory: 1, latePolicy: 'route-late' });
    buf.insert('p', { seq: 1 }, 0);
    buf.deliverExpired(1); // skips 0
    buf.insert('p', { seq: 3 }, 1);
    buf.deliverExpired(2); // skips 2; run 0-0 forgotten
    take();
    assert.equal(buf.insert('p', { seq: 0 }, 3), 'late');
    assert.equal(buf.insert('p', { seq: 2 }, 3), 'late');
    assert.equal(buf.insert('p', { seq: 2 }, 3), 'duplicate');
  });
});
