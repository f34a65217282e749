/**
 * The worker as a real process against the real broker: sub-stream records (data + progress
 * markers, with the splitter's envelope headers) in; results, fillers and forwarded markers out on
 * the processed topic, partition = source partition, read with read_committed.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ServiceProcess } from '../harness/processes.ts';
import { testStack, uniqueName } from '../harness/stack.ts';
import { createTopics, deleteGroups, deleteTopics, produce, readTopic, type ProduceRecord, type ReadRecord } from '../harness/topics.ts';

const EVERY_NTH = 5;
/** Same rule as the worker's `dropEveryNth` (services/worker README): drops seq 4, 9, 14, … */
const dropped = (seq: number) => (seq + 1) % EVERY_NTH === 0;

function data(seq: number, prev: number | undefined, source: number, key = `customer-${seq % 3}`): ProduceRecord {
  const headers: Record<string, string> = {
    'convoy-kind': 'data',
    'convoy-seq': String(seq),
    'convoy-source': `convoy.input/${source}`,
    'convoy-event-time': String(1_700_000_000_000 + seq),
    'convoy-substream': '0',
    'convoy-epoch': '0',
  };
  if (prev !== undefined) headers['convoy-prev'] = String(prev);
  return { partition: 0, key, value: JSON.stringify({ seq, amount: seq * 10 }), headers };
}

function marker(upTo: number, source: number): ProduceRecord {
  return {
    partition: 0,
    key: null,
    value: null,
    headers: { 'convoy-kind': 'progress', 'convoy-seq': String(upTo), 'convoy-source': `convoy.input/${source}`, 'convoy-epoch': '0', 'convoy-substreams': '2' },
  };
}

const trace = (records: readonly ReadRecord[], partition: number) =>
  records.filter((r) => r.partition === partition).map((r) => `${r.headers['convoy-kind']}:${r.headers['convoy-seq']}`);

describe('worker service (real broker)', () => {
  const substreams = uniqueName('worker-it-substreams');
  const processed = uniqueName('worker-it-processed');
  const dlq = uniqueName('worker-it-dlq');
  const group = uniqueName('worker-it-group');
  let worker: ServiceProcess | undefined;

  before(async () => {
    await createTopics([{ topic: substreams, partitions: 2 }]);
  });

  after(async () => {
    await worker?.stop();
    await deleteTopics([substreams, processed, dlq]);
    await deleteGroups([group]);
  });

  it('filters deterministically, writes fillers, forwards markers in position, dead-letters bad records', async (t) => {
    // Source 0: seqs 0..9 (dense offsets), source 2: seqs 100, 101; markers after seq 4 and 9.
    const input: ProduceRecord[] = [];
    for (let seq = 0; seq <= 4; seq++) input.push(data(seq, seq === 0 ? undefined : seq - 1, 0));
    input.push(data(100, undefined, 2));
    input.push(marker(4, 0));
    for (let seq = 5; seq <= 9; seq++) input.push(data(seq, seq - 1, 0));
    input.push(data(101, 100, 2));
    input.push({ partition: 0, key: 'bad', value: 'not convoy', headers: { 'x-origin': 'test' } });
    input.push(marker(9, 0));
    input.push(marker(101, 2));
    await produce(substreams, input);

    worker = await ServiceProcess.start({
      service: 'worker',
      name: 'worker-it',
      env: {
        KAFKA_BROKERS: testStack().brokers.join(','),
        WORKER_INPUT_TOPIC: substreams,
        WORKER_PROCESSED_TOPIC: processed,
        WORKER_PROCESSED_PARTITIONS: '3',
        WORKER_DLQ_TOPIC: dlq,
        WORKER_GROUP_ID: group,
        WORKER_PROCESSOR: 'filter',
        WORKER_FILTER: JSON.stringify({ dropEveryNth: EVERY_NTH }),
        WORKER_EMIT_FILLERS: 'true',
      },
    });
    await worker.ready();
    t.diagnostic(`worker pid ${worker.pid}`);

    const out = await readTopic(processed, { until: (records) => records.length >= 15, timeoutMs: 60_000 });
    const expected0: string[] = [];
    for (let seq = 0; seq <= 9; seq++) {
      expected0.push(`${dropped(seq) ? 'filler' : 'data'}:${seq}`);
      if (seq === 4 || seq === 9) expected0.push(`progress:${seq}`);
    }
    assert.deepEqual(trace(out, 0), expected0, worker.logTail());
    assert.deepEqual(trace(out, 1), []);
    assert.deepEqual(trace(out, 2), ['data:100', 'data:101', 'progress:101']);

    const first = out.find((r) => r.partition === 0 && r.headers['convoy-seq'] === '1');
    assert.equal(first?.key, 'customer-1');
    assert.equal(first?.value?.toString(), JSON.stringify({ seq: 1, amount: 10 }));
    assert.deepEqual(
      { prev: first?.headers['convoy-prev'], source: first?.headers['convoy-source'], sub: first?.headers['convoy-substream'], time: first?.headers['convoy-event-time'] },
      { prev: '0', source: 'convoy.input/0', sub: '0', time: '1700000000001' },
    );
    const filler = out.find((r) => r.headers['convoy-kind'] === 'filler');
    assert.equal(filler?.headers['convoy-prev'], '3');
    assert.equal(filler?.headers['convoy-filler-reason'], 'filtered');
    const forwarded = out.find((r) => r.headers['convoy-kind'] === 'progress');
    assert.equal(forwarded?.headers['convoy-substream'], '0', 'the worker adds the sub-stream to a forwarded marker');

    const letters = await readTopic(dlq, { until: (records) => records.length >= 1, timeoutMs: 30_000 });
    assert.equal(letters.length, 1);
    assert.equal(letters[0]?.headers['convoy-error-code'], 'WORKER_NOT_A_CONVOY_RECORD');
    assert.equal(letters[0]?.headers['x-origin'], 'test');
    assert.equal(letters[0]?.value?.toString(), 'not convoy');

    assert.equal(await worker.metric('convoy_worker_events_in_total'), 12);
    assert.equal(await worker.metric('convoy_worker_events_out_total'), 10);
    assert.equal(await worker.metric('convoy_worker_events_filtered_total'), 2);
    assert.equal(await worker.metric('convoy_worker_markers_forwarded_total'), 3);
    assert.equal(await worker.metric('convoy_worker_events_dead_lettered_total', { code: 'WORKER_NOT_A_CONVOY_RECORD' }), 1);
    assert.equal(await worker.stop(), 0);
  });

  it('enrich: one customer per worker keeps the LRU cache hot (hits and ratio in metrics)', async (t) => {
    const input = uniqueName('worker-it-enrich-in');
    const output = uniqueName('worker-it-enrich-out');
    const group2 = uniqueName('worker-it-enrich-group');
    await createTopics([{ topic: input, partitions: 1 }]);
    const proc = await ServiceProcess.start({
      service: 'worker',
      name: 'worker-enrich',
      env: {
        KAFKA_BROKERS: testStack().brokers.join(','),
        WORKER_INPUT_TOPIC: input,
        WORKER_PROCESSED_TOPIC: output,
        WORKER_PROCESSED_PARTITIONS: '1',
        WORKER_DLQ_TOPIC: dlq,
        WORKER_GROUP_ID: group2,
        WORKER_PROCESSOR: 'enrich',
        WORKER_STORE_LATENCY_MS: '20ms',
        WORKER_CACHE_SIZE: '100',
      },
    });
    t.after(async () => {
      await proc.stop();
      await deleteTopics([input, output]);
      await deleteGroups([group2]);
    });
    await proc.ready();
    await produce(input, Array.from({ length: 30 }, (_, seq) => data(seq, seq === 0 ? undefined : seq - 1, 0, `c${seq % 3}`)));
    const out = await readTopic(output, { until: (records) => records.length >= 30, timeoutMs: 60_000 });
    assert.equal(out.length, 30, proc.logTail());
    assert.deepEqual(out.map((r) => Number(r.headers['convoy-seq'])), Array.from({ length: 30 }, (_, i) => i));
    const first = JSON.parse(out[0]!.value!.toString()) as { seq: number; profile: { customerId: string } };
    assert.equal(first.seq, 0);
    assert.equal(first.profile.customerId, 'c0');
    assert.equal(await proc.metric('convoy_worker_cache_misses_total'), 3);
    assert.equal(await proc.metric('convoy_worker_cache_hits_total'), 27);
    assert.equal(await proc.metric('convoy_worker_cache_hit_ratio'), 0.9);
  });

  it('a custom processor module: retriable errors retried, poison events dead-lettered with a filler, the rest flows', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'worker-it-module-'));
    const module = join(dir, 'picky.mjs');
    writeFileSync(
      module,
      [
        'export default ({ options }) => (event, context) => {',
        '  if (event.seq === options.flaky) throw Object.assign(new Error("store down"), { code: "FLAKY", retriable: true });',
        '  if (event.seq === options.poison) throw Object.assign(new Error("cannot parse"), { code: "POISON" });',
        '  return { value: { seq: event.seq, attempt: context.attempt } };',
        '};',
      ].join('\n'),
    );
    const input = uniqueName('worker-it-module-in');
    const output = uniqueName('worker-it-module-out');
    const letters = uniqueName('worker-it-module-dlq');
    const group3 = uniqueName('worker-it-module-group');
    await createTopics([{ topic: input, partitions: 1 }]);
    const proc = await ServiceProcess.start({
      service: 'worker',
      name: 'worker-module',
      env: {
        KAFKA_BROKERS: testStack().brokers.join(','),
        WORKER_INPUT_TOPIC: input,
        WORKER_PROCESSED_TOPIC: output,
        WORKER_PROCESSED_PARTITIONS: '1',
        WORKER_DLQ_TOPIC: letters,
        WORKER_GROUP_ID: group3,
        WORKER_PROCESSOR: module,
        WORKER_PROCESSOR_OPTIONS: JSON.stringify({ flaky: 2, poison: 4 }),
        WORKER_MAX_ATTEMPTS: '3',
        WORKER_RETRY_BACKOFF_MS: '10ms',
      },
    });
    t.after(async () => {
      await proc.stop();
      await deleteTopics([input, output, letters]);
      await deleteGroups([group3]);
      rmSync(dir, { recursive: true, force: true });
    });
    await proc.ready();
    await produce(input, Array.from({ length: 6 }, (_, seq) => data(seq, seq === 0 ? undefined : seq - 1, 0)));
    const out = await readTopic(output, { until: (records) => records.length >= 6, timeoutMs: 60_000 });
    assert.deepEqual(trace(out, 0), ['data:0', 'data:1', 'filler:2', 'data:3', 'filler:4', 'data:5'], proc.logTail());
    assert.deepEqual(JSON.parse(out[3]!.value!.toString()), { seq: 3, attempt: 1 });
    const dead = await readTopic(letters, { until: (records) => records.length >= 2, timeoutMs: 30_000 });
    assert.deepEqual(
      dead.map((r) => [r.headers['convoy-seq'], r.headers['convoy-error-code'], r.headers['convoy-error-retriable'], r.headers['convoy-error-attempts']]),
      [
        ['2', 'FLAKY', 'true', '3'],
        ['4', 'POISON', 'false', '1'],
      ],
    );
    assert.equal(await proc.metric('convoy_worker_retries_total', { code: 'FLAKY' }), 2);
  });

  it('kill -9 mid-run and restart: the processed topic (read_committed) has every seq exactly once, in order', async (t) => {
    const input = uniqueName('worker-it-crash-in');
    const output = uniqueName('worker-it-crash-out');
    const group4 = uniqueName('worker-it-crash-group');
    const total = 3000;
    await createTopics([{ topic: input, partitions: 1 }]);
    const records: ProduceRecord[] = [];
    for (let seq = 0; seq < total; seq++) {
      records.push(data(seq, seq === 0 ? undefined : seq - 1, 0));
      if (seq % 100 === 99) records.push(marker(seq, 0));
    }
    await produce(input, records);
    const proc = await ServiceProcess.start({
      service: 'worker',
      name: 'worker-crash',
      env: {
        KAFKA_BROKERS: testStack().brokers.join(','),
        WORKER_INPUT_TOPIC: input,
        WORKER_PROCESSED_TOPIC: output,
        WORKER_PROCESSED_PARTITIONS: '1',
        WORKER_DLQ_TOPIC: dlq,
        WORKER_GROUP_ID: group4,
        WORKER_PROCESSOR: 'enrich',
        WORKER_STORE_LATENCY_MS: '1ms',
        WORKER_CACHE_SIZE: '1', // three customers in turn: every event misses, so the run takes a while
        WORKER_MAX_BATCH_RECORDS: '100', // many transactions, so the kill lands between and inside them
      },
    });
    t.after(async () => {
      await proc.stop();
      await deleteTopics([input, output]);
      await deleteGroups([group4]);
    });
    await proc.ready();
    const deadline = Date.now() + 30_000;
    let before = 0;
    while ((before = await proc.metric('convoy_worker_events_in_total')) < 500 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await proc.kill('SIGKILL');
    assert.ok(before >= 500 && before < total, `killed after ${before} of ${total} events`);
    t.diagnostic(`killed after ${before} of ${total} events`);
    proc.spawn();
    await proc.ready();
    const out = await readTopic(output, { until: (rs) => rs.length >= total + total / 100, timeoutMs: 120_000 });
    const seqs = out.filter((r) => r.headers['convoy-kind'] === 'data').map((r) => Number(r.headers['convoy-seq']));
    assert.equal(seqs.length, total, proc.logTail());
    assert.deepEqual(seqs, Array.from({ length: total }, (_, i) => i));
    assert.equal(out.filter((r) => r.headers['convoy-kind'] === 'progress').length, total / 100);
  });
});
