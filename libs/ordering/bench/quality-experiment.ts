// Quality experiment: fixed slack vs K-slack vs AQ-K-slack on seeded traces.
// Run: node libs/ordering/bench/quality-experiment.ts   (from the repo root; ~10–30 s)
import { AqKSlack } from '../src/slack/aq-k-slack.ts';
import { FixedSlack } from '../src/slack/fixed-slack.ts';
import { KSlack } from '../src/slack/k-slack.ts';
import type { SlackEstimator } from '../src/slack/slack-estimator.ts';
import { simulate, type QualityResult, type WindowQuery } from './quality/simulate.ts';
import { generateTrace, type TraceSpec } from './quality/trace.ts';

const EVENTS = Number(process.env['QUALITY_EVENTS'] ?? 200_000);

const COMMON = {
  events: EVENTS,
  meanGap: 1, // ~1000 events/s of event time
  burstEvery: 20_000,
  burstLength: 1_000,
  burstFactor: 10,
  maxDelay: 30_000,
  valueMedian: 10,
  valueSigma: 0.5,
} as const;

const TRACES: TraceSpec[] = [
  { ...COMMON, name: 'exponential (mean 20 ms) + bursts ×10', seed: 1, delay: { kind: 'exponential', mean: 20 } },
  { ...COMMON, name: 'Pareto/Lomax (scale 10 ms, shape 1.5, mean 20 ms) + bursts ×10', seed: 2, delay: { kind: 'pareto', scale: 10, shape: 1.5 } },
];

const QUERY: WindowQuery = { size: 1_000, slide: 200, warmUp: 10_000 };
const THRESHOLDS = [0.01, 0.05] as const;

interface Candidate {
  name: string;
  make: () => SlackEstimator;
}

const aq = (errorThreshold: number, aggregate: 'count' | 'sum', gains: { kp?: number; kd?: number } = {}) => (): SlackEstimator =>
  new AqKSlack({ errorThreshold, confidence: 0.95, aggregate, windowSize: QUERY.size, windowSlide: QUERY.slide, ...gains });

const CANDIDATES: Candidate[] = [
  { name: 'fixed 100 ms', make: () => new FixedSlack(100) },
  { name: 'K-slack (MP)', make: () => new KSlack() },
  { name: 'AQ-K-slack COUNT ε=1%', make: aq(0.01, 'count') },
  { name: 'AQ-K-slack COUNT ε=5%', make: aq(0.05, 'count') },
  { name: 'AQ-K-slack SUM ε=1%', make: aq(0.01, 'sum') },
  { name: 'AQ-K-slack COUNT ε=1%, Siddhi gains kp 0.5 kd 0.8', make: aq(0.01, 'count', { kp: 0.5, kd: 0.8 }) },
];

const pct = (x: number): string => `${(100 * x).toFixed(2)}%`;
const ms = (x: number): string => x.toFixed(1);

function row(name: string, r: QualityResult): string {
  return [
    name,
    ms(r.meanLatency),
    ms(r.p99Latency),
    pct(r.inOrderFraction),
    ms(r.meanK),
    ms(r.maxK),
    pct(r.count.mean),
    pct(r.count.within['0.01'] ?? 0),
    pct(r.count.within['0.05'] ?? 0),
    pct(r.sum.mean),
    pct(r.sum.within['0.01'] ?? 0),
  ].join(' | ');
}

const started = performance.now();
console.log(`quality experiment: ${EVENTS} events per trace, sliding window ${QUERY.size} ms / slide ${QUERY.slide} ms, windows ending before ${QUERY.warmUp} ms not scored\n`);
for (const spec of TRACES) {
  const trace = generateTrace(spec);
  console.log(`### ${spec.name} (seed ${spec.seed})\n`);
  console.log('| estimator | mean latency ms | p99 latency ms | released in order | mean K ms | max K ms | COUNT mean relErr | COUNT windows ≤1% | COUNT windows ≤5% | SUM mean relErr | SUM windows ≤1% |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  const results = new Map<string, QualityResult>();
  for (const c of CANDIDATES) {
    const r = simulate(trace, c.make(), QUERY, THRESHOLDS);
    results.set(c.name, r);
    console.log(`| ${row(c.name, r)} |`);
  }
  const mp = results.get('K-slack (MP)');
  const aq1 = results.get('AQ-K-slack COUNT ε=1%');
  if (mp !== undefined && aq1 !== undefined) {
    const cut = 1 - aq1.meanLatency / mp.meanLatency;
    console.log(`\nAQ-K-slack COUNT ε=1% vs K-slack: mean latency ${pct(cut)} lower, mean K ${pct(1 - aq1.meanK / mp.meanK)} smaller; COUNT windows with relErr ≤ 1%: ${pct(aq1.count.within['0.01'] ?? 0)}\n`);
  }
}
console.log(`done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
