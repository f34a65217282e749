/**
 * Soak run (issue #7, not CI): the whole convoy (splitter → workers → merger, real processes) at a
 * steady input rate for N minutes. Every SOAK_SAMPLE_S seconds it samples the RSS of every process
 * (VmRSS), the merger's buffer depth and consumer lag, and the events sent and released; at the end
 * it checks the ordered topic exactly (streaming, O(1) memory: per partition the seqs must be
 * 0, 1, 2, … up to the input's end offset) and writes a markdown report.
 *
 *   KAFKA_BROKERS=127.0.0.1:9092 node scripts/soak.ts
 *   SOAK_MINUTES=30 SOAK_RATE=1000 SOAK_WORKERS=4 SOAK_SOURCE_PARTITIONS=3 SOAK_SAMPLE_S=30 SOAK_OUT=docs/soak.md
 *
 * Exit code 0 when the verdict holds, 1 otherwise.
 */
import { writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { startConvoy } from '../test/harness/convoy.ts';
import { rssKiB, startLoad } from '../test/harness/faults.ts';
import { deleteGroups, deleteTopics, endOffsets, testKafka } from '../test/harness/topics.ts';
import { uniqueName } from '../test/harness/stack.ts';

function positive(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) {
    process.stderr.write(`${name}=${JSON.stringify(raw)}: expected a positive number\n`);
    process.exit(2);
  }
  return value;
}

if (process.env['KAFKA_BROKERS'] === undefined) {
  process.stderr.write('KAFKA_BROKERS is not set: eval "$(bash scripts/stack.sh up)" first\n');
  process.exit(2);
}
const minutes = positive('SOAK_MINUTES', 30);
const rate = positive('SOAK_RATE', 1_000);
const workers = Math.round(positive('SOAK_WORKERS', 4));
const sourcePartitions = Math.round(positive('SOAK_SOURCE_PARTITIONS', 3));
const sampleMs = positive('SOAK_SAMPLE_S', 30) * 1000;
const out = process.env['SOAK_OUT'] ?? 'docs/soak.md';
const total = Math.round(rate * minutes * 60);

const convoy = await startConvoy(undefined, {
  sourcePartitions,
  workers,
  splitterEnv: { SPLITTER_MARKER_INTERVAL_MS: '200' },
  workerEnv: { WORKER_PROCESSOR: 'enrich' },
  mergerEnv: { MERGER_NEVER_DROP: 'true' },
});
const processes = convoy.all();
const cleanup = async () => {
  await convoy.stop();
  await deleteTopics([...Object.values(convoy.topics), `${convoy.topics.ordered}.late`, `${convoy.topics.substreams}.splitter-state`]).catch(() => undefined);
  await deleteGroups(convoy.groups).catch(() => undefined);
};
process.once('SIGINT', () => void cleanup().finally(() => process.exit(130)));

interface Row {
  readonly t: number;
  readonly sent: number;
  readonly released: number;
  readonly buffered: number;
  readonly lag: number;
  readonly rssMiB: (number | undefined)[];
}
const rows: Row[] = [];
const started = Date.now();
const load = startLoad(convoy.topics.input, { ratePerSec: rate, total, seed: 99 });
const metricOr = (read: Promise<number>) => read.catch(() => NaN);
const sample = async (): Promise<Row> => {
  const row: Row = {
    t: Math.round((Date.now() - started) / 1000),
    sent: load.produced(),
    released: await metricOr(convoy.merger.metric('convoy_merger_events_out_total')),
    buffered: await metricOr(convoy.merger.metric('convoy_merger_buffer_events')),
    lag: await metricOr(convoy.merger.metric('convoy_merger_kafka_consumer_lag')),
    rssMiB: processes.map((p) => {
      const kib = rssKiB(p.pid);
      return kib === undefined ? undefined : Math.round(kib / 102.4) / 10;
    }),
  };
  rows.push(row);
  process.stdout.write(`${JSON.stringify(row)}\n`);
  return row;
};

let finished = false;
void load.done.then(() => (finished = true));
await sample();
while (!finished) {
  const due = started + rows.length * sampleMs;
  while (!finished && Date.now() < due) await sleep(Math.min(1_000, Math.max(0, due - Date.now())));
  await sample();
}
const sent = await load.done;
// Drain: wait until the merger released everything (or stopped moving for 2 minutes).
let last = -1;
let stuckSince = Date.now();
for (;;) {
  const released = await metricOr(convoy.merger.metric('convoy_merger_events_out_total'));
  if (released >= sent) break;
  if (released !== last) {
    last = released;
    stuckSince = Date.now();
  } else if (Date.now() - stuckSince > 120_000) break;
  await sleep(1_000);
}
const drainedAfter = Math.round((Date.now() - started) / 1000);
await sample();

/** Streams the ordered topic (read_committed) and checks every partition holds seq 0…end−1 in order. */
async function exactVerdict(): Promise<{ ok: boolean; expected: number; received: number; problems: string[] }> {
  const ends = await endOffsets(convoy.topics.input);
  const expected = [...ends.values()].reduce((a, b) => a + b, 0);
  const next = new Map<number, number>();
  const problems: string[] = [];
  let received = 0;
  let lastArrival = Date.now();
  const consumer = testKafka().consumer({ groupId: uniqueName('convoy-soak-verdict'), readUncommitted: false });
  await consumer.connect();
  await consumer.subscribe({ topic: convoy.topics.ordered, fromBeginning: true });
  await consumer.run({
    eachBatch: async ({ batch }) => {
      for (const m of batch.messages) {
        const seq = Number(m.headers?.['convoy-seq']?.toString());
        const want = next.get(batch.partition) ?? 0;
        if (seq !== want && problems.length < 20) problems.push(`partition ${batch.partition}: seq ${seq} where ${want} was due`);
        next.set(batch.partition, Math.max(want, seq + 1));
        received++;
      }
      lastArrival = Date.now();
    },
  });
  while (received < expected && Date.now() - lastArrival < 30_000) await sleep(500);
  await sleep(3_000); // anything after the expected count would be a duplicate
  await consumer.disconnect();
  for (const [p, end] of ends) if ((next.get(p) ?? 0) !== end) problems.push(`partition ${p}: ended at seq ${(next.get(p) ?? 0) - 1}, input ends at ${end - 1}`);
  if (received !== expected) problems.push(`${received} received, ${expected} expected`);
  return { ok: problems.length === 0, expected, received, problems };
}
const v = await exactVerdict();
await cleanup();

const rssCells = (row: Row) => row.rssMiB.map((x) => (x === undefined ? '–' : x.toFixed(1)));
const table = [
  `| t (s) | sent | released | merger buffer | merger lag | ${processes.map((p) => `${p.name} RSS MiB`).join(' | ')} |`,
  `|---:|---:|---:|---:|---:|${processes.map(() => '---:').join('|')}|`,
  ...rows.map((r) => `| ${r.t} | ${r.sent} | ${r.released} | ${r.buffered} | ${Number.isNaN(r.lag) ? '–' : r.lag} | ${rssCells(r).join(' | ')} |`),
];
const growth = processes.map((p, i) => {
  const values = rows.slice(1).map((r) => r.rssMiB[i]).filter((x): x is number => x !== undefined);
  if (values.length < 2) return `${p.name}: –`;
  return `${p.name} ${values[0]!.toFixed(1)} → ${values[values.length - 1]!.toFixed(1)} MiB (min ${Math.min(...values).toFixed(1)}, max ${Math.max(...values).toFixed(1)})`;
});
const report = [
  `# Soak run ${new Date(started).toISOString()}`,
  '',
  `Command: \`SOAK_MINUTES=${minutes} SOAK_RATE=${rate} SOAK_WORKERS=${workers} SOAK_SOURCE_PARTITIONS=${sourcePartitions} SOAK_SAMPLE_S=${sampleMs / 1000} node scripts/soak.ts\``,
  `(splitter → ${workers} workers with \`enrich\` → merger, ${sourcePartitions} source partitions, broker ${process.env['KAFKA_BROKERS']}).`,
  '',
  `- Sent ${sent} events in ${minutes} min at ${rate}/s; everything released ${drainedAfter} s after the first produce.`,
  `- Verdict (every ordered partition holds seq 0…end−1 exactly once, in order): **${v.ok ? 'pass' : 'FAIL'}**, ${v.received} of ${v.expected}${v.ok ? '' : `; ${v.problems.slice(0, 5).join('; ')}`}.`,
  `- RSS from the first sample after start to the last: ${growth.join('; ')}.`,
  '',
  ...table,
  '',
].join('\n');
writeFileSync(out, report);
process.stdout.write(`${report}\nwritten to ${out}\n`);
process.exit(v.ok ? 0 : 1);
