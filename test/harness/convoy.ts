/**
 * A whole sequential convoy (splitter → N workers → merger) as real processes on fresh topics,
 * plus the input generator and the verdict that end-to-end tests and the benchmark share.
 */
import type { TestContext } from 'node:test';
import { mulberry32 } from '@convoy/demo-producer/generator';
import { ServiceProcess } from './processes.ts';
import { createTopics, deleteGroups, deleteTopics, produce, readTopic, type ProduceRecord, type ReadRecord } from './topics.ts';
import { uniqueName } from './stack.ts';

export interface ConvoyTopics {
  readonly input: string;
  readonly substreams: string;
  readonly processed: string;
  readonly ordered: string;
  readonly dlq: string;
}

export interface ConvoyOptions {
  readonly sourcePartitions: number;
  readonly workers: number;
  /** Sub-stream partitions (default: one per worker); more than `workers` leaves room to scale workers out. */
  readonly substreams?: number;
  readonly splitterEnv?: Record<string, string>;
  readonly workerEnv?: Record<string, string>;
  readonly mergerEnv?: Record<string, string>;
}

export interface RunningConvoy {
  readonly topics: ConvoyTopics;
  readonly groups: string[];
  readonly splitter: ServiceProcess;
  readonly workers: ServiceProcess[];
  readonly merger: ServiceProcess;
  all(): ServiceProcess[];
  stop(): Promise<void>;
}

export async function startConvoy(t: TestContext | undefined, options: ConvoyOptions): Promise<RunningConvoy> {
  const id = uniqueName('convoy');
  const topics: ConvoyTopics = {
    input: `${id}.input`,
    substreams: `${id}.substreams`,
    processed: `${id}.processed`,
    ordered: `${id}.ordered`,
    dlq: `${id}.dlq`,
  };
  const groups = [`${id}-splitter`, `${id}-worker`, `${id}-merger`];
  const substreams = options.substreams ?? options.workers;
  await createTopics([
    { topic: topics.input, partitions: options.sourcePartitions },
    { topic: topics.substreams, partitions: substreams },
    { topic: topics.processed, partitions: options.sourcePartitions },
    { topic: topics.ordered, partitions: options.sourcePartitions },
    { topic: topics.dlq, partitions: 1 },
  ]);

  const splitter = await ServiceProcess.start({
    service: 'splitter',
    env: {
      SPLITTER_INPUT_TOPIC: topics.input,
      SPLITTER_SUBSTREAMS_TOPIC: topics.substreams,
      SPLITTER_SUBSTREAMS: String(substreams),
      SPLITTER_DLQ_TOPIC: topics.dlq,
      SPLITTER_GROUP_ID: groups[0]!,
      SPLITTER_TRANSACTIONAL_ID_PREFIX: groups[0]!,
      ...options.splitterEnv,
    },
  });
  const workers: ServiceProcess[] = [];
  for (let i = 0; i < options.workers; i++) {
    workers.push(
      await ServiceProcess.start({
        service: 'worker',
        name: `worker-${i}`,
        env: {
          WORKER_INPUT_TOPIC: topics.substreams,
          WORKER_PROCESSED_TOPIC: topics.processed,
          WORKER_PROCESSED_PARTITIONS: String(options.sourcePartitions),
          WORKER_DLQ_TOPIC: topics.dlq,
          WORKER_GROUP_ID: groups[1]!,
          ...options.workerEnv,
        },
      }),
    );
  }
  const merger = await ServiceProcess.start({
    service: 'merger',
    env: {
      MERGER_INPUT_TOPIC: topics.processed,
      MERGER_OUTPUT_TOPIC: topics.ordered,
      MERGER_DLQ_TOPIC: topics.dlq,
      MERGER_GROUP_ID: groups[2]!,
      ...options.mergerEnv,
    },
  });
  const all = () => [splitter, ...workers, merger];
  const convoy: RunningConvoy = {
    topics,
    groups,
    splitter,
    workers,
    merger,
    all,
    async stop() {
      await Promise.all(all().map((p) => p.kill('SIGKILL')));
    },
  };
  t?.after(async () => {
    await convoy.stop();
    await deleteTopics([...Object.values(topics), `${topics.ordered}.late`, `${topics.substreams}.splitter-state`]).catch(() => undefined);
    await deleteGroups(groups).catch(() => undefined);
  });
  await Promise.all(all().map((p) => p.ready(90_000)));
  return convoy;
}

/** Deterministic PRNG (the demo producer's mulberry32), so a failing run can be replayed. */
export const prng = mulberry32;

export interface OrderEvent {
  readonly id: number;
  readonly customerId: string;
  readonly amount: number;
}

/** `count` order events over `customers` customers, keyed by customer ID. */
export function orderEvents(count: number, customers: number, seed = 7, firstId = 0): ProduceRecord[] {
  const random = prng(seed);
  const records: ProduceRecord[] = [];
  for (let i = 0; i < count; i++) {
    const customerId = `customer-${Math.floor(random() * customers)}`;
    const event: OrderEvent = { id: firstId + i, customerId, amount: Math.floor(random() * 50_000) / 100 };
    records.push({ key: customerId, value: JSON.stringify(event) });
  }
  return records;
}

export async function produceInput(convoy: RunningConvoy, records: ProduceRecord[]): Promise<void> {
  await produce(convoy.topics.input, records);
}

export interface Verdict {
  readonly ok: boolean;
  readonly expected: number;
  readonly received: number;
  readonly missing: number;
  readonly duplicates: number;
  readonly outOfOrder: number;
  readonly problems: string[];
}

/**
 * Compares, per source partition, the ordered output with the input (minus `excluded`): exact
 * order, nothing missing, nothing twice. Records are identified by their input offset (`convoy-seq`).
 */
export function verdict(input: readonly ReadRecord[], output: readonly ReadRecord[], excluded: (r: ReadRecord) => boolean = () => false): Verdict {
  const problems: string[] = [];
  let expectedCount = 0;
  let missing = 0;
  let duplicates = 0;
  let outOfOrder = 0;
  const partitions = new Set([...input.map((r) => r.partition), ...output.map((r) => r.partition)]);
  for (const p of [...partitions].sort((a, b) => a - b)) {
    const want = input.filter((r) => r.partition === p && !excluded(r)).sort((a, b) => a.offset - b.offset);
    const got = output.filter((r) => r.partition === p).sort((a, b) => a.offset - b.offset);
    expectedCount += want.length;
    const seen = new Set<number>();
    let last = -1;
    for (const r of got) {
      const seq = Number(r.headers['convoy-seq']);
      if (seen.has(seq)) duplicates++;
      else if (seq < last) outOfOrder++;
      seen.add(seq);
      last = Math.max(last, seq);
    }
    const wanted = new Set(want.map((r) => r.offset));
    for (const r of want) if (!seen.has(r.offset)) missing++;
    for (const seq of seen) if (!wanted.has(seq)) problems.push(`partition ${p}: unexpected seq ${seq}`);
    const wantValues = want.map((r) => r.value?.toString());
    const gotValues = got.map((r) => r.value?.toString());
    if (wantValues.length === gotValues.length && wantValues.some((v, i) => v !== gotValues[i])) {
      problems.push(`partition ${p}: values differ from the input order`);
    }
  }
  if (missing > 0) problems.push(`${missing} missing`);
  if (duplicates > 0) problems.push(`${duplicates} duplicated`);
  if (outOfOrder > 0) problems.push(`${outOfOrder} out of order`);
  return { ok: problems.length === 0, expected: expectedCount, received: output.length, missing, duplicates, outOfOrder, problems };
}

export async function readInput(convoy: RunningConvoy, count: number): Promise<ReadRecord[]> {
  return readTopic(convoy.topics.input, { until: (rs) => rs.length >= count, timeoutMs: 60_000 });
}

/**
 * Waits until `count` records are on the ordered topic, then reads it once more until it has been
 * quiet for `idleMs`, so duplicates arriving after the count was reached are seen too.
 */
export async function readOrderedSettled(convoy: RunningConvoy, count: number, timeoutMs = 180_000, idleMs = 3_000): Promise<ReadRecord[]> {
  await readTopic(convoy.topics.ordered, { until: (rs) => rs.length >= count, timeoutMs });
  return readTopic(convoy.topics.ordered, { idleMs, timeoutMs: 120_000 });
}
