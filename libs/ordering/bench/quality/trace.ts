/** A seeded PRNG (mulberry32): same seed, same trace. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

export type DelayModel =
  | { kind: 'exponential'; mean: number }
  | { kind: 'pareto'; scale: number; shape: number }
  | { kind: 'lognormal'; mu: number; sigma: number };

export interface TraceSpec {
  name: string;
  seed: number;
  events: number;
  /** Mean gap between consecutive event times (ms); gaps are exponential (Poisson source). */
  meanGap: number;
  delay: DelayModel;
  /** Bursts: on average one every `burstEvery` ms of event time, lasting `burstLength` ms, delays × `burstFactor`. */
  burstEvery: number;
  burstLength: number;
  burstFactor: number;
  /** Delays are capped here (ms): a real transport gives up eventually. */
  maxDelay: number;
  /** Values: lognormal with this median and log-sd (positive, right-skewed). */
  valueMedian: number;
  valueSigma: number;
}

export interface TraceEvent {
  readonly eventTime: number;
  readonly arrival: number;
  readonly value: number;
}

function normal(rnd: () => number): number {
  const u = 1 - rnd();
  const v = rnd();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

function sampleDelay(model: DelayModel, rnd: () => number): number {
  switch (model.kind) {
    case 'exponential':
      return -model.mean * Math.log(1 - rnd());
    case 'pareto':
      return model.scale / Math.pow(1 - rnd(), 1 / model.shape) - model.scale;
    case 'lognormal':
      return Math.exp(model.mu + model.sigma * normal(rnd));
  }
}

/** Events in arrival order (ties broken by event time). */
export function generateTrace(spec: TraceSpec): TraceEvent[] {
  const rnd = mulberry32(spec.seed);
  const events: TraceEvent[] = [];
  let t = 0;
  let burstStart = -1;
  let nextBurst = -spec.burstEvery * Math.log(1 - rnd());
  for (let i = 0; i < spec.events; i++) {
    t += -spec.meanGap * Math.log(1 - rnd());
    if (t >= nextBurst) {
      burstStart = nextBurst;
      nextBurst = burstStart + spec.burstLength + -spec.burstEvery * Math.log(1 - rnd());
    }
    const inBurst = burstStart >= 0 && t < burstStart + spec.burstLength;
    const delay = Math.min(spec.maxDelay, sampleDelay(spec.delay, rnd) * (inBurst ? spec.burstFactor : 1));
    const value = spec.valueMedian * Math.exp(spec.valueSigma * normal(rnd));
    events.push({ eventTime: t, arrival: t + delay, value });
  }
  events.sort((a, b) => a.arrival - b.arrival || a.eventTime - b.eventTime);
  return events;
}
