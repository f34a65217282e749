import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AqKSlack, quantile, type AqKSlackOptions } from './aq-k-slack.ts';
import { KSlack } from './k-slack.ts';

/** Events at ts = 0..n−1, each arriving at ts + delay(ts); returned in arrival order. */
function arrivalOrder(n: number, delay: (ts: number) => number): number[] {
  const events = Array.from({ length: n }, (_, ts) => ({ ts, at: ts + delay(ts) }));
  events.sort((a, b) => a.at - b.at || a.ts - b.ts);
  return events.map((e) => e.ts);
}

/** Deterministic pseudo-random in [0, 1). */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const BASE: AqKSlackOptions = {
  errorThreshold: 0.05,
  confidence: 0.95,
  aggregate: 'count',
  windowSize: 100,
};

interface Step {
  alpha: number;
  thetaThreshold: number;
  thetaMeasured: number;
  k: number;
}

function run(s: AqKSlack, order: number[]): { steps: Step[]; ks: number[] } {
  const steps: Step[] = [];
  const ks: number[] = [];
  let seen = 0;
  for (const ts of order) {
    s.observe(ts, 1);
    ks.push(s.slack);
    const d = s.diagnostics;
    if (d.controlSteps !== seen) {
      seen = d.controlSteps;
      steps.push({ alpha: d.alpha, thetaThreshold: d.thetaThreshold, thetaMeasured: d.thetaMeasured, k: d.k });
    }
  }
  return { steps, ks };
}

const everyFifthLate = (ts: number): number => (ts % 5 === 4 ? 50 : 0);

test('in-order input keeps K at 0', () => {
  const s = new AqKSlack(BASE);
  const { ks } = run(s, arrivalOrder(2000, () => 0));
  assert.ok(ks.every((k) => k === 0));
  assert.ok(s.diagnostics.controlSteps > 10);
});

test('coverage below θ_thr drives α and K up', () => {
  const s = new AqKSlack({ ...BASE, initialAlpha: 0.5, delaySampleSize: 200 });
  const { steps } = run(s, arrivalOrder(3000, everyFifthLate));
  const firstMeasured = steps.findIndex((st) => !Number.isNaN(st.thetaMeasured));
  assert.ok(firstMeasured >= 0);
  const first = steps[firstMeasured]!;
  // K = 0 makes every fifth tuple late: measured coverage is exactly 0.8.
  assert.equal(first.thetaMeasured, 0.8);
  assert.ok(first.thetaThreshold > 0.97 && first.thetaThreshold < 0.99);
  assert.ok(first.alpha > 0.5, `α rose to ${first.alpha}`);
  // While the measurement stays at 0.8 (settled windows lag by the horizon), α keeps rising.
  let i = firstMeasured + 1;
  for (; i < steps.length && steps[i]!.thetaMeasured === 0.8; i++) {
    assert.ok(steps[i]!.alpha > steps[i - 1]!.alpha || steps[i]!.alpha === 1);
  }
  assert.ok(i > firstMeasured + 2, 'several steps observed below the set point');
  assert.ok(steps.some((st) => st.k >= 49), 'K reaches the delayed tuples');
});

test('coverage above θ_thr drives α down', () => {
  const s = new AqKSlack({ ...BASE, initialAlpha: 1, delaySampleSize: 200 });
  const { steps } = run(s, arrivalOrder(3000, everyFifthLate));
  const firstMeasured = steps.findIndex((st) => !Number.isNaN(st.thetaMeasured));
  const first = steps[firstMeasured]!;
  assert.equal(first.thetaMeasured, 1);
  assert.ok(first.alpha < 1, `α fell to ${first.alpha}`);
});

test('K adapts both ways when delays grow and shrink (K-slack only grows)', () => {
  const rnd = lcg(7);
  const phase = 4000;
  const spread = (ts: number): number => (ts < phase || ts >= 2 * phase ? 20 : 80);
  const order = arrivalOrder(3 * phase, (ts) => (rnd() < 0.3 ? Math.floor(rnd() * spread(ts)) : 0));
  const aq = new AqKSlack({ ...BASE, delaySampleSize: 500 });
  const mp = new KSlack();
  const aqK: number[] = [];
  const mpK: number[] = [];
  for (const ts of order) {
    aq.observe(ts, 1);
    mp.observe(ts, 1);
    aqK.push(aq.slack);
    mpK.push(mp.slack);
  }
  const tailMean = (ks: number[], p: number): number => {
    const part = ks.slice(p * phase + phase / 2, (p + 1) * phase);
    return part.reduce((a, b) => a + b, 0) / part.length;
  };
  const [a1, a2, a3] = [tailMean(aqK, 0), tailMean(aqK, 1), tailMean(aqK, 2)];
  assert.ok(a2 > 2 * a1, `grows: ${a1} → ${a2}`);
  assert.ok(a3 < a2 / 2, `shrinks: ${a2} → ${a3}`);
  assert.ok(tailMean(mpK, 2) >= tailMean(mpK, 1), 'K-slack never shrinks');
});

test('one outlier does not inflate K permanently', () => {
  const order = arrivalOrder(6000, (ts) => (ts === 1000 ? 3000 : ts % 3 === 0 ? 5 : 0));
  const aq = new AqKSlack({ ...BASE, delaySampleSize: 256, initialAlpha: 1 });
  const mp = new KSlack();
  let aqMax = 0;
  for (const ts of order) {
    aq.observe(ts, 1);
    mp.observe(ts, 1);
    aqMax = Math.max(aqMax, aq.slack);
  }
  assert.ok(mp.slack >= 2990, `K-slack keeps ${mp.slack}`);
  assert.ok(aq.slack <= 5, `AQ-K-slack back to ${aq.slack} (peak ${aqMax})`);
});

test('K never exceeds maxK', () => {
  const rnd = lcg(3);
  const order = arrivalOrder(3000, () => Math.floor(rnd() * 200));
  const s = new AqKSlack({ ...BASE, maxK: 30 });
  const { ks } = run(s, order);
  assert.ok(ks.every((k) => k >= 0 && k <= 30));
  assert.ok(ks.includes(30));
});

test('tracked windows are capped; early settlements are counted', () => {
  const rnd = lcg(11);
  const order = arrivalOrder(3000, () => Math.floor(rnd() * 400));
  const s = new AqKSlack({ ...BASE, windowSize: 20, windowSlide: 5, maxTrackedWindows: 8 });
  run(s, order);
  const d = s.diagnostics;
  assert.ok(d.evictedWindows > 0);
  assert.ok(d.settledWindows >= d.evictedWindows);
});

test('a jump in event time closing many windows runs at most maxStepsPerObservation steps', () => {
  const s = new AqKSlack({ ...BASE, windowSize: 10, maxStepsPerObservation: 3 });
  s.observe(0, 1);
  s.observe(1000, 1); // closes windows ending 10, 20, ..., 1000: 100 results
  const d = s.diagnostics;
  assert.equal(d.controlSteps, 3);
  assert.equal(d.skippedSteps, 97);
});

test('quantile is nearest-rank', () => {
  const xs = Float64Array.from({ length: 1000 }, (_, i) => i);
  assert.equal(quantile(xs, 0.8), 799);
  assert.equal(quantile(xs, 1), 999);
  assert.equal(quantile(xs, 0), 0);
  assert.equal(quantile([], 0.5), 0);
});

test('AqKSlack validates its options once', () => {
  assert.throws(() => new AqKSlack({ ...BASE, errorThreshold: 0 }), { code: 'ORDERING_INVALID_OPTION' });
  assert.throws(() => new AqKSlack({ ...BASE, confidence: 1 }), { code: 'ORDERING_INVALID_OPTION' });
  assert.throws(() => new AqKSlack({ ...BASE, windowSlide: 200 }), { code: 'ORDERING_INVALID_OPTION' });
  assert.throws(() => new AqKSlack({ ...BASE, aggregate: 'max' as 'count' }), { code: 'ORDERING_INVALID_OPTION' });
});

test('non-finite values are counted and kept out of the value statistics', () => {
  const s = new AqKSlack({ ...BASE, aggregate: 'sum' });
  const order = arrivalOrder(1000, everyFifthLate);
  for (const ts of order) s.observe(ts, ts % 2 === 0 ? 10 : (Number.NaN as number));
  const d = s.diagnostics;
  assert.equal(d.nonFiniteValues, 500);
  // All finite values are 10 (σ = 0): SUM's threshold equals COUNT's, finite and below 1.
  assert.ok(d.thetaThreshold > 0.97 && d.thetaThreshold < 0.99, `θ_thr ${d.thetaThreshold}`);
});
