// Reorder-buffer throughput and memory: `node --expose-gc libs/ordering/bench/reorder-throughput.ts`
// Not a test. Prints a markdown table; one run stays well under a minute.
import { performance } from 'node:perf_hooks';
import { EventTimeReorderBuffer } from '../src/reorder/event-time-reorder-buffer.ts';
import { SequenceReorderBuffer } from '../src/reorder/sequence-reorder-buffer.ts';
import type { ReorderOutput } from '../src/reorder/types.ts';
import { FixedSlack } from '../src/slack/fixed-slack.ts';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 1_000_000);
const REPEATS = 3;
const DISORDERS = [0.001, 0.01, 0.1];
const MAX_DISPLACEMENT = 16;
const SLACK = 2 * MAX_DISPLACEMENT;

interface Ev {
  seq: number;
  eventTime: number;
  bytes: number;
}

class CountingOutput<T> implements ReorderOutput<T> {
  delivered = 0;
  other = 0;
  deliver(): void {
    this.delivered++;
  }
  late(): void {
    this.other++;
  }
  dropped(): void {
    this.other++;
  }
  suspectedDrop(): void {}
}

/** Deterministic xorshift so every run measures the same arrival order. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}

/** Arrival order: a fraction `disorder` of events is delayed by 1..MAX_DISPLACEMENT positions. */
function arrivals(n: number, disorder: number, maxDisplacement = MAX_DISPLACEMENT): Ev[] {
  const random = rng(42 + Math.round(disorder * 1e6));
  const keyed: { key: number; ev: Ev }[] = [];
  for (let i = 0; i < n; i++) {
    const delay = random() < disorder ? 1.5 + Math.floor(random() * maxDisplacement) : 0;
    keyed.push({ key: i + delay, ev: { seq: i, eventTime: i, bytes: 100 } });
  }
  keyed.sort((a, b) => a.key - b.key);
  return keyed.map((k) => k.ev);
}

function rate(run: () => number): number {
  let best = 0;
  for (let r = 0; r < REPEATS; r++) {
    const t0 = performance.now();
    const delivered = run();
    const ms = performance.now() - t0;
    if (delivered !== EVENTS) throw new Error(`delivered ${delivered} of ${EVENTS}`);
    best = Math.max(best, EVENTS / (ms / 1000));
  }
  return best;
}

function sequenceConvoy(events: Ev[]): number {
  const out = new CountingOutput<Ev>();
  const buf = new SequenceReorderBuffer<Ev>({ timeout: 10_000 }, out);
  for (let i = 0; i < events.length; i++) buf.insert('p', events[i] as Ev, i);
  return out.delivered;
}

/** Naive baseline: held events in a sorted array (binary search + splice), release from the head. */
function sequenceNaive(events: Ev[]): number {
  const held: Ev[] = [];
  let next = 0;
  let delivered = 0;
  for (const ev of events) {
    if (ev.seq === next) {
      delivered++;
      next++;
      while (held.length > 0 && (held[0] as Ev).seq === next) {
        held.shift();
        delivered++;
        next++;
      }
      continue;
    }
    let lo = 0;
    let hi = held.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((held[mid] as Ev).seq < ev.seq) lo = mid + 1;
      else hi = mid;
    }
    held.splice(lo, 0, ev);
  }
  return delivered;
}

function eventTimeConvoy(events: Ev[], slack = SLACK): number {
  const out = new CountingOutput<Ev>();
  const buf = new EventTimeReorderBuffer<Ev>({ estimator: new FixedSlack(slack) }, out);
  for (let i = 0; i < events.length; i++) buf.insert('p', events[i] as Ev, i);
  buf.flush();
  return out.delivered;
}

function eventTimeNaive(events: Ev[], slack = SLACK): number {
  const held: Ev[] = [];
  let clk = Number.NEGATIVE_INFINITY;
  let delivered = 0;
  for (const ev of events) {
    if (ev.eventTime > clk) clk = ev.eventTime;
    let lo = 0;
    let hi = held.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((held[mid] as Ev).eventTime <= ev.eventTime) lo = mid + 1;
      else hi = mid;
    }
    held.splice(lo, 0, ev);
    while (held.length > 0 && (held[0] as Ev).eventTime + slack <= clk) {
      held.shift();
      delivered++;
    }
  }
  return delivered + held.length;
}

const gc = (globalThis as { gc?: () => void }).gc;

function bytesPerHeld(hold: (events: Ev[]) => unknown, count: number): number | undefined {
  if (gc === undefined) return undefined;
  const events: Ev[] = [];
  for (let i = 0; i < count; i++) events.push({ seq: i + 1, eventTime: i, bytes: 100 });
  gc();
  const before = process.memoryUsage().heapUsed;
  const keep = hold(events);
  gc();
  const after = process.memoryUsage().heapUsed;
  if (keep === undefined) throw new Error('unreachable');
  return (after - before) / count;
}

const HELD = 200_000;
const seqBytes = bytesPerHeld((events) => {
  // seq 0 never arrives, so everything is held.
  const buf = new SequenceReorderBuffer<Ev>({ timeout: 1e9, capacity: HELD }, new CountingOutput<Ev>());
  for (const ev of events) buf.insert('p', ev, 0);
  if (buf.size !== HELD) throw new Error(`held ${buf.size}`);
  return buf;
}, HELD);
const timeBytes = bytesPerHeld((events) => {
  const buf = new EventTimeReorderBuffer<Ev>({ estimator: new FixedSlack(1e9), capacity: HELD }, new CountingOutput<Ev>());
  for (const ev of events) buf.insert('p', ev, 0);
  if (buf.size !== HELD) throw new Error(`held ${buf.size}`);
  return buf;
}, HELD);

const rows: string[] = [];
for (const disorder of DISORDERS) {
  const events = arrivals(EVENTS, disorder);
  const modes = [
    ['sequence', sequenceConvoy, sequenceNaive],
    ['event-time (fixed slack 32)', eventTimeConvoy, eventTimeNaive],
  ] as const;
  for (const [mode, convoy, naive] of modes) {
    const ours = rate(() => convoy(events));
    const base = rate(() => naive(events));
    rows.push(
      `| ${mode} | ${(disorder * 100).toFixed(1)}% | ${fmt(ours)} | ${fmt(base)} | ${(ours / base).toFixed(2)}x |`,
    );
  }
}

// Wide disorder: delays up to 4096 positions, so thousands of events are held at once.
const WIDE = 4096;
{
  const events = arrivals(EVENTS, 0.1, WIDE);
  const ours = rate(() => sequenceConvoy(events));
  const base = rate(() => sequenceNaive(events));
  rows.push(`| sequence, delays up to ${WIDE} | 10.0% | ${fmt(ours)} | ${fmt(base)} | ${(ours / base).toFixed(2)}x |`);
  const oursT = rate(() => eventTimeConvoy(events, 2 * WIDE));
  const baseT = rate(() => eventTimeNaive(events, 2 * WIDE));
  rows.push(`| event-time (fixed slack ${2 * WIDE}), delays up to ${WIDE} | 10.0% | ${fmt(oursT)} | ${fmt(baseT)} | ${(oursT / baseT).toFixed(2)}x |`);
}

console.log(`Node ${process.version}, ${EVENTS.toLocaleString('en-US')} events per run, best of ${REPEATS}; a disordered event is delayed by 1-${MAX_DISPLACEMENT} positions.\n`);
console.log('| mode | disorder | reorder buffer (events/s) | naive sorted array (events/s) | ratio |');
console.log('|---|---|---|---|---|');
for (const row of rows) console.log(row);
console.log('');
if (seqBytes === undefined || timeBytes === undefined) console.log('Memory per held event: run with --expose-gc to measure.');
else {
  console.log(`| memory per held event (${HELD.toLocaleString('en-US')} held, excluding the event object) | bytes |`);
  console.log('|---|---|');
  console.log(`| sequence mode | ${seqBytes.toFixed(0)} |`);
  console.log(`| event-time mode | ${timeBytes.toFixed(0)} |`);
}

function fmt(perSecond: number): string {
  return `${(perSecond / 1e6).toFixed(2)} M`;
}
