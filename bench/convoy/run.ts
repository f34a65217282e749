// `pnpm bench convoy`: the sequential convoy (splitter → N workers → merger) against a plain relay
// chain with the same number of Kafka hops, on the same broker, in the same run. A measurement,
// not a test; method and last results: docs/convoy-benchmark.md.
import { cpus, loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { startConvoy, type RunningConvoy } from '../../test/harness/convoy.ts';
import { createTopics, deleteGroups, deleteTopics, endOffsets, testKafka } from '../../test/harness/topics.ts';
import { uniqueName } from '../../test/harness/stack.ts';
import { RelayProcess } from './relay-process.ts';

if ((process.env['KAFKA_BROKERS'] ?? '').trim() === '') {
  process.stderr.write(
    'bench convoy needs a running Kafka broker: set KAFKA_BROKERS (e.g. KAFKA_BROKERS=127.0.0.1:9092 pnpm bench convoy;\n' +
      'start a local one with `eval "$(bash scripts/stack.sh up)"`).\n',
  );
  process.exit(2);
}

function intEnv(name: string, fallback: number): number {
  const text = process.env[name];
  const value = text === undefined || text === '' ? fallback : Number(text);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name}=${text} is not a positive integer`);
  return value;
}

const EVENTS = intEnv('BENCH_EVENTS', 30_000);
const PACED_RATE = intEnv('BENCH_PACED_RATE', 1_000);
const PACED_SECONDS = intEnv('BENCH_PACED_SECONDS', 8);
const WORKER_COUNTS = (process.env['BENCH_WORKERS'] ?? '1,2,4').split(',').map(Number);
const SOURCE_PARTITIONS = 3;
const CUSTOMERS = 1_000;
const MARKER_INTERVAL_MS = intEnv('BENCH_MARKER_INTERVAL_MS', 200);
const CHUNK = 5_000;
const TICK_MS = 50;

interface Pipeline {
  readonly name: string;
  readonly input: string;
  readonly output: string;
}

interface Measurement {
  readonly drainEvents: number;
  readonly drainSeconds: number;
  readonly eventsPerSecond: number;
  readonly drainP50: number;
  readonly drainP99: number;
  readonly pacedEvents: number;
  readonly pacedP50: number;
  readonly pacedP99: number;
  readonly orderViolations: number;
  readonly missing: number;
}

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

/** Events this pipeline should emit for the input partitions' record counts. */
type Expect = (counts: readonly number[]) => number;
const everything: Expect = (counts) => counts.reduce((a, b) => a + b, 0);
/** `WORKER_FILTER={"dropEveryNth":10}` drops seq 9, 19, … of every source partition (seq = offset). */
const minusEveryTenth: Expect = (counts) => counts.reduce((a, n) => a + n - Math.floor(n / 10), 0);

async function inputCounts(topic: string): Promise<number[]> {
  const ends = await endOffsets(topic);
  return [...ends.entries()].sort((a, b) => a[0] - b[0]).map(([, high]) => high);
}

/**
 * Drain phase: EVENTS produced as fast as the producer goes while the pipeline runs; throughput =
 * events out / (last one received − first send). Paced phase: PACED_RATE events/s for
 * PACED_SECONDS, below every configuration's capacity; latency = receive time on the output
 * (read_committed) − the `sentAt` stamped in the payload just before the send.
 */
async function measure(pipeline: Pipeline, expect: Expect, beforePaced?: () => Promise<void>): Promise<Measurement> {
  const kafka = testKafka();
  const consumer = kafka.consumer({ groupId: uniqueName('convoy-bench-reader'), readUncommitted: false, maxWaitTimeInMs: 50 });
  const latencies: [number[], number[]] = [[], []];
  const received = [0, 0];
  const lastReceived = [0, 0];
  const lastId = new Map<number, number>();
  let orderViolations = 0;
  await consumer.connect();
  const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
  await consumer.subscribe({ topic: pipeline.output, fromBeginning: true });
  await consumer.run({
    eachBatch: async ({ batch }) => {
      const now = Date.now();
      for (const m of batch.messages) {
        const event = JSON.parse(m.value?.toString() ?? '{}') as { id: number; sentAt: number };
        const phase = event.id < EVENTS ? 0 : 1;
        latencies[phase]!.push(now - event.sentAt);
        received[phase]!++;
        lastReceived[phase] = now;
        if (event.id <= (lastId.get(batch.partition) ?? -1)) orderViolations++;
        lastId.set(batch.partition, event.id);
      }
    },
  });
  await joined;

  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  let nextId = 0;
  const batchOf = (n: number) => {
    const sentAt = Date.now();
    const messages = [];
    for (let i = 0; i < n; i++, nextId++) {
      const customerId = `customer-${(nextId * 7919) % CUSTOMERS}`;
      messages.push({ key: customerId, value: JSON.stringify({ id: nextId, customerId, amount: (nextId % 50_000) / 100, sentAt }) });
    }
    return messages;
  };
  const waitFor = async (phase: 0 | 1, count: number, timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    while (received[phase]! < count && Date.now() < deadline) await sleep(20);
  };

  try {
    const started = Date.now();
    while (nextId < EVENTS) await producer.send({ topic: pipeline.input, acks: -1, messages: batchOf(Math.min(CHUNK, EVENTS - nextId)) });
    const drainExpected = expect(await inputCounts(pipeline.input));
    await waitFor(0, drainExpected, 240_000);
    const drainSeconds = (lastReceived[0]! - started) / 1000;
    const drainMissing = drainExpected - received[0]!;

    await beforePaced?.();
    const perTick = Math.max(1, Math.round((PACED_RATE * TICK_MS) / 1000));
    const pacedStart = Date.now();
    for (let tick = 0; tick < (PACED_SECONDS * 1000) / TICK_MS; tick++) {
      const due = pacedStart + tick * TICK_MS;
      if (due > Date.now()) await sleep(due - Date.now());
      await producer.send({ topic: pipeline.input, acks: -1, messages: batchOf(perTick) });
    }
    const pacedExpected = expect(await inputCounts(pipeline.input)) - drainExpected;
    await waitFor(1, pacedExpected, 120_000);
    const [drain, paced] = latencies.map((l) => l.sort((a, b) => a - b)) as [number[], number[]];
    return {
      drainEvents: received[0]!,
      drainSeconds,
      eventsPerSecond: received[0]! / drainSeconds,
      drainP50: quantile(drain, 0.5),
      drainP99: quantile(drain, 0.99),
      pacedEvents: received[1]!,
      pacedP50: quantile(paced, 0.5),
      pacedP99: quantile(paced, 0.99),
      orderViolations,
      missing: drainMissing + (pacedExpected - received[1]!),
    };
  } finally {
    await producer.disconnect();
    await consumer.disconnect();
  }
}

async function withConvoy<T>(workers: number, workerEnv: Record<string, string>, fn: (convoy: RunningConvoy) => Promise<T>): Promise<T> {
  const convoy = await startConvoy(undefined, {
    sourcePartitions: SOURCE_PARTITIONS,
    workers,
    splitterEnv: { SPLITTER_MARKER_INTERVAL_MS: String(MARKER_INTERVAL_MS), SPLITTER_MARKER_IDLE_INTERVAL_MS: String(Math.max(1_000, MARKER_INTERVAL_MS)) },
    workerEnv,
  });
  try {
    return await fn(convoy);
  } finally {
    await convoy.stop();
    await deleteTopics([...Object.values(convoy.topics), `${convoy.topics.ordered}.late`]).catch(() => undefined);
    await deleteGroups(convoy.groups).catch(() => undefined);
  }
}

async function withRelayChain<T>(fn: (pipeline: Pipeline) => Promise<T>): Promise<T> {
  const id = uniqueName('relay');
  const topics = [`${id}.input`, `${id}.hop1`, `${id}.hop2`, `${id}.output`];
  const groups = [`${id}-stage1`, `${id}-stage2`, `${id}-stage3`];
  await createTopics(topics.map((topic) => ({ topic, partitions: SOURCE_PARTITIONS })));
  const stages: RelayProcess[] = [];
  try {
    for (let i = 0; i < 3; i++) {
      stages.push(await RelayProcess.start(`relay-${i + 1}`, { RELAY_INPUT_TOPIC: topics[i]!, RELAY_OUTPUT_TOPIC: topics[i + 1]!, RELAY_GROUP_ID: groups[i]! }));
    }
    await Promise.all(stages.map((s) => s.ready()));
    return await fn({ name: 'relay chain', input: topics[0]!, output: topics[3]! });
  } finally {
    await Promise.all(stages.map((s) => s.kill()));
    await deleteTopics(topics).catch(() => undefined);
    await deleteGroups(groups).catch(() => undefined);
  }
}

interface HistogramSnapshot {
  readonly buckets: readonly (readonly [number, number])[];
  readonly count: number;
}

function histogram(text: string, name: string): HistogramSnapshot {
  const buckets = new Map<number, number>();
  let count = 0;
  for (const line of text.split('\n')) {
    const bucket = new RegExp(`^${name}_bucket\\{[^}]*le="([^"]+)"[^}]*\\}\\s+(\\S+)`).exec(line);
    if (bucket !== null) {
      const le = bucket[1] === '+Inf' ? Infinity : Number(bucket[1]);
      buckets.set(le, (buckets.get(le) ?? 0) + Number(bucket[2]));
    }
    const total = new RegExp(`^${name}_count(\\{[^}]*\\})?\\s+(\\S+)`).exec(line);
    if (total !== null) count += Number(total[2]);
  }
  return { buckets: [...buckets.entries()].sort((a, b) => a[0] - b[0]), count };
}

function minus(after: HistogramSnapshot, before: HistogramSnapshot): HistogramSnapshot {
  const prior = new Map(before.buckets);
  return { buckets: after.buckets.map(([le, n]) => [le, n - (prior.get(le) ?? 0)] as const), count: after.count - before.count };
}

/** Prometheus' histogram_quantile: linear interpolation inside the bucket that holds the quantile. */
function histogramQuantile(h: HistogramSnapshot, q: number): number {
  if (h.count === 0) return Number.NaN;
  const rank = q * h.count;
  let lowerBound = 0;
  let lowerCount = 0;
  for (const [le, cumulative] of h.buckets) {
    if (cumulative >= rank) {
      if (le === Infinity) return lowerBound;
      return lowerBound + ((le - lowerBound) * (rank - lowerCount)) / Math.max(1, cumulative - lowerCount);
    }
    lowerBound = le;
    lowerCount = cumulative;
  }
  return lowerBound;
}

const ms = (x: number) => (Number.isNaN(x) ? 'n/a' : `${Math.round(x)}`);
const log = (text: string) => process.stdout.write(`${text}\n`);

log(`# convoy benchmark: ${EVENTS} events drained + ${PACED_RATE}/s paced for ${PACED_SECONDS} s per configuration, ${SOURCE_PARTITIONS} source partitions, ${CUSTOMERS} customers`);
log(`# machine: ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), load average ${loadavg().map((x) => x.toFixed(2)).join(' ')} at start, broker ${process.env['KAFKA_BROKERS']}`);
const runStarted = Date.now();

const relays: Measurement[] = [];
const runRelay = async () => {
  const m = await withRelayChain((p) => measure(p, everything));
  relays.push(m);
  log(`relay chain #${relays.length}: ${JSON.stringify(m)}`);
};
await runRelay();

const convoys = new Map<number, Measurement>();
for (const workers of WORKER_COUNTS) {
  const m = await withConvoy(workers, {}, (convoy) => measure({ name: `convoy ${workers}`, input: convoy.topics.input, output: convoy.topics.ordered }, everything));
  convoys.set(workers, m);
  log(`convoy, ${workers} worker(s): ${JSON.stringify(m)}`);
}

const FILTER_WORKERS = WORKER_COUNTS[WORKER_COUNTS.length - 1]!;
const filterRun = await withConvoy(FILTER_WORKERS, { WORKER_PROCESSOR: 'filter', WORKER_FILTER: '{"dropEveryNth":10}' }, async (convoy) => {
  const delay = async () => histogram(await convoy.merger.metrics(), 'convoy_merger_release_delay_seconds');
  let atPaced: HistogramSnapshot | undefined;
  const m = await measure({ name: 'convoy filtered', input: convoy.topics.input, output: convoy.topics.ordered }, minusEveryTenth, async () => {
    atPaced = await delay();
  });
  const end = await delay();
  return {
    m,
    p99All: histogramQuantile(end, 0.99) * 1000,
    p99Paced: atPaced === undefined ? Number.NaN : histogramQuantile(minus(end, atPaced), 0.99) * 1000,
    p50Paced: atPaced === undefined ? Number.NaN : histogramQuantile(minus(end, atPaced), 0.5) * 1000,
    byMarker: await convoy.merger.metric('convoy_merger_gaps_resolved_total', { by: 'marker' }),
    byTimeout: await convoy.merger.metric('convoy_merger_gaps_resolved_total', { by: 'timeout' }),
  };
});
log(`convoy, ${FILTER_WORKERS} worker(s), 10% filtered: ${JSON.stringify(filterRun)}`);

await runRelay();

const relayRate = relays.reduce((a, m) => a + m.eventsPerSecond, 0) / relays.length;
log('');
log(`## Results (${((Date.now() - runStarted) / 1000).toFixed(0)} s, load average ${loadavg().map((x) => x.toFixed(2)).join(' ')} at the end)`);
log('');
log('| pipeline | workers | drain events/s | convoy / relay | paced p50 ms | paced p99 ms | drain p50 ms | drain p99 ms | order violations | missing |');
log('|---|---|---|---|---|---|---|---|---|---|');
relays.forEach((m, i) =>
  log(`| relay chain (3 hops) run ${i + 1} | – | ${Math.round(m.eventsPerSecond)} | – | ${ms(m.pacedP50)} | ${ms(m.pacedP99)} | ${ms(m.drainP50)} | ${ms(m.drainP99)} | ${m.orderViolations} | ${m.missing} |`),
);
for (const [workers, m] of convoys) {
  log(`| convoy | ${workers} | ${Math.round(m.eventsPerSecond)} | ${(m.eventsPerSecond / relayRate).toFixed(2)} | ${ms(m.pacedP50)} | ${ms(m.pacedP99)} | ${ms(m.drainP50)} | ${ms(m.drainP99)} | ${m.orderViolations} | ${m.missing} |`);
}
const f = filterRun.m;
log(`| convoy, 10% filtered | ${FILTER_WORKERS} | ${Math.round(f.eventsPerSecond)} | ${(f.eventsPerSecond / relayRate).toFixed(2)} | ${ms(f.pacedP50)} | ${ms(f.pacedP99)} | ${ms(f.drainP50)} | ${ms(f.drainP99)} | ${f.orderViolations} | ${f.missing} |`);
log('');
log(`convoy / relay uses the mean of the relay runs (${Math.round(relayRate)} events/s). Aim: ≥ 0.50.`);
log('');
log('| 10% filtered | marker interval | merger p99 release delay | aim: ≤ 2 intervals | gaps by marker / timeout |');
log('|---|---|---|---|---|');
log(`| paced phase | ${MARKER_INTERVAL_MS} ms | ${ms(filterRun.p99Paced)} ms (p50 ${ms(filterRun.p50Paced)} ms) | ${2 * MARKER_INTERVAL_MS} ms: ${filterRun.p99Paced <= 2 * MARKER_INTERVAL_MS ? 'met' : 'missed'} | ${filterRun.byMarker} / ${filterRun.byTimeout} |`);
log(`| whole run (drain + paced) | ${MARKER_INTERVAL_MS} ms | ${ms(filterRun.p99All)} ms | ${2 * MARKER_INTERVAL_MS} ms: ${filterRun.p99All <= 2 * MARKER_INTERVAL_MS ? 'met' : 'missed'} | |`);
