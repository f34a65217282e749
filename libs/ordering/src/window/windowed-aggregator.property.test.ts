import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { hoppingWindows, tumblingWindows, type WindowAssigner } from './window-assigner.ts';
import { addToAggregate, aggregateOf, type WindowAggregate } from './window-aggregate.ts';
import { windowResultKey } from './window-result-key.ts';
import {
  WindowedAggregator,
  type LateWindowEvent,
  type WindowedAggregatorOptions,
  type WindowOutput,
  type WindowResult,
} from './windowed-aggregator.ts';

type Op =
  | { t: 'event'; key: string; lead: number; value: number }
  | { t: 'wm'; advance: number }
  | { t: 'tick'; advance: number };

interface Config {
  size: number;
  slide: number;
  allowedLateness: number;
  maxOpenWindows: number;
  overflow: 'retire-oldest' | 'reject-new';
  earlyEveryEvents: number | undefined;
  earlyEveryMs: number | undefined;
}

const configArb: fc.Arbitrary<Config> = fc
  .record({
    size: fc.integer({ min: 2, max: 40 }),
    slideFraction: fc.constantFrom(1, 1, 0.5, 0.34, 0.2),
    allowedLateness: fc.integer({ min: 0, max: 60 }),
    maxOpenWindows: fc.oneof(fc.integer({ min: 1, max: 12 }), fc.constant(1_000_000)),
    overflow: fc.constantFrom('retire-oldest' as const, 'reject-new' as const),
    earlyEveryEvents: fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined }),
    earlyEveryMs: fc.option(fc.integer({ min: 50, max: 500 }), { nil: undefined }),
  })
  .map(({ slideFraction, ...c }) => ({ ...c, slide: Math.max(1, Math.floor(c.size * slideFraction)) }));

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ t: fc.constant('event' as const), key: fc.constantFrom('a', 'b', 'c'), lead: fc.integer({ min: -90, max: 60 }), value: fc.integer({ min: -20, max: 20 }) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('wm' as const), advance: fc.integer({ min: 0, max: 30 }) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('tick' as const), advance: fc.integer({ min: 0, max: 400 }) }) },
);

function options(c: Config): WindowedAggregatorOptions & { windows: WindowAssigner } {
  const o: WindowedAggregatorOptions & { windows: WindowAssigner } = {
    windows: c.slide === c.size ? tumblingWindows({ size: c.size }) : hoppingWindows({ size: c.size, slide: c.slide }),
    allowedLateness: c.allowedLateness,
    maxOpenWindows: c.maxOpenWindows,
    overflow: c.overflow,
  };
  if (c.earlyEveryEvents !== undefined) o.earlyEveryEvents = c.earlyEveryEvents;
  if (c.earlyEveryMs !== undefined) o.earlyEveryMs = c.earlyEveryMs;
  return o;
}

interface Step {
  op: Op;
  /** Watermark and event time as seen by the aggregator when the op ran. */
  watermark: number;
  eventTime: number;
  openBefore: number;
  /** Overflow retirement floor before and after the op (-Infinity when unset). */
  floorBefore: number;
  floorAfter: number;
  results: WindowResult[];
  late: LateWindowEvent[];
  open: Set<string>;
}

const FLUSH = 1_000_000_000;

/** Runs the trace (optionally through a JSON snapshot/restore at `cutAt`), then a flushing watermark. */
function run(c: Config, ops: Op[], cutAt = -1): { steps: Step[]; aggregator: WindowedAggregator } {
  let aggregator = new WindowedAggregator(options(c));
  let wm = 0;
  let now = 0;
  const steps: Step[] = [];
  const all: Op[] = [...ops, { t: 'wm', advance: FLUSH }];
  all.forEach((op, i) => {
    if (i === cutAt) {
      aggregator = new WindowedAggregator(options(c), JSON.parse(JSON.stringify(aggregator.snapshot())));
    }
    const results: WindowResult[] = [];
    const late: LateWindowEvent[] = [];
    const output: WindowOutput = { emitResult: (r) => results.push(r), emitLate: (e) => late.push(e) };
    const openBefore = aggregator.openWindowCount;
    const floorBefore = aggregator.snapshot().retiredThrough ?? -Infinity;
    let eventTime = Number.NaN;
    if (op.t === 'event') {
      eventTime = wm + op.lead;
      aggregator.onEvent(op.key, eventTime, op.value, output);
    } else if (op.t === 'wm') {
      wm += op.advance;
      aggregator.onWatermark(wm, output);
    } else {
      now += op.advance;
      aggregator.onPeriodicEmit(now, output);
    }
    const after = aggregator.snapshot();
    const open = new Set(after.open.map((s) => windowResultKey(s.key, s.start, s.end)));
    const floorAfter = after.retiredThrough ?? -Infinity;
    steps.push({ op, watermark: aggregator.currentWatermark, eventTime, openBefore, floorBefore, floorAfter, results, late, open });
  });
  return { steps, aggregator };
}

const sameAggregate = (a: WindowAggregate | undefined, b: WindowAggregate | undefined) => assert.deepEqual(a, b);

test('property: versions are gapless, the last version is the exact aggregate of counted events, every pair is counted or late, cap and retirement hold', () => {
  fc.assert(
    fc.property(configArb, fc.array(opArb, { maxLength: 80 }), (c, ops) => {
      const { steps, aggregator } = run(c, ops);
      const assigner = options(c).windows;
      const expected = new Map<string, WindowAggregate>();
      const history = new Map<string, WindowResult[]>();
      const retired = new Set<string>();
      const everOpen = new Set<string>();
      let lateRecords = 0;
      let openBefore = new Set<string>();

      for (const step of steps) {
        for (const r of step.results) {
          const id = windowResultKey(r.key, r.windowStart, r.windowEnd);
          assert.ok(!retired.has(id), `result for retired window ${id}`);
          const list = history.get(id) ?? [];
          const prev = list.at(-1);
          assert.equal(r.version, list.length + 1, `version gap in ${id}`);
          sameAggregate(r.previous, prev?.value);
          if (r.kind === 'early') assert.ok(prev === undefined || prev.kind === 'early');
          if (r.kind === 'final') assert.ok(prev === undefined || prev.kind === 'early');
          if (r.kind === 'correction') assert.ok(prev !== undefined && prev.kind !== 'early');
          list.push(r);
          history.set(id, list);
        }
        assert.ok(step.open.size <= c.maxOpenWindows, 'open windows exceed the cap');

        const { op } = step;
        if (op.t === 'event') {
          assert.ok(step.late.length <= 1);
          lateRecords += step.late.length;
          const rejected = new Map((step.late[0]?.rejected ?? []).map((w) => [`${w.windowStart}|${w.windowEnd}`, w.reason]));
          const windows = assigner.assignWindows(step.eventTime);
          let counted = 0;
          for (const w of windows) {
            const id = windowResultKey(op.key, w.start, w.end);
            const reason = rejected.get(`${w.start}|${w.end}`);
            if (reason === undefined) {
              counted += 1;
              assert.ok(w.end + c.allowedLateness > step.watermark, `counted in watermark-retired window ${id}`);
              assert.ok(w.end > step.floorBefore, `counted in overflow-retired window ${id}`);
              const agg = expected.get(id);
              if (agg === undefined) expected.set(id, aggregateOf(op.value));
              else addToAggregate(agg, op.value);
            } else if (reason === 'window-retired') {
              assert.ok(w.end + c.allowedLateness <= step.watermark, `${id} refused as retired too early`);
            } else if (reason === 'overflow-retired') {
              assert.ok(!openBefore.has(id) && w.end <= step.floorAfter, `${id} refused as overflow-retired while open`);
            } else {
              assert.ok(!openBefore.has(id), `${id} refused while open`);
              assert.ok(step.openBefore + windows.length > c.maxOpenWindows, `${id} refused for overflow below the cap`);
            }
          }
          assert.equal(rejected.size, windows.length - counted);
          if (step.late[0] !== undefined) assert.equal(step.late[0].countedIn, counted);
        } else {
          assert.deepEqual(step.late, []);
        }
        openBefore = step.open;
        for (const id of step.open) everOpen.add(id);
        for (const id of everOpen) if (!step.open.has(id)) retired.add(id);
      }

      assert.equal(aggregator.openWindowCount, 0, 'the flushing watermark retires everything');
      assert.deepEqual([...history.keys()].sort(), [...expected.keys()].sort(), 'windows with counted events are exactly the emitted ones');
      for (const [id, list] of history) {
        assert.equal(list.filter((r) => r.kind === 'final').length, 1, `${id} has one final`);
        sameAggregate(list.at(-1)?.value, expected.get(id));
      }
      const stats = aggregator.stats;
      assert.equal(stats.eventsIn, ops.filter((o) => o.t === 'event').length);
      assert.equal(stats.eventsIn, stats.eventsCounted + stats.eventsPartlyLate + stats.eventsLate);
      assert.equal(lateRecords, stats.eventsPartlyLate + stats.eventsLate);
      if (c.maxOpenWindows === 1_000_000) {
        assert.equal(stats.rejectedAssignments['overflow-rejected'] + stats.rejectedAssignments['overflow-retired'], 0);
      }
    }),
    { numRuns: 500 },
  );
});

test('property: snapshot → JSON → restore at any point continues with exactly the uninterrupted output', () => {
  fc.assert(
    fc.property(configArb, fc.array(opArb, { maxLength: 60 }), fc.nat(), (c, ops, cut) => {
      const cutAt = cut % (ops.length + 1);
      const straight = run(c, ops).steps.map((s) => [s.results, s.late]);
      const restored = run(c, ops, cutAt).steps.map((s) => [s.results, s.late]);
      assert.deepEqual(restored, straight);
    }),
    { numRuns: 400 },
  );
});
