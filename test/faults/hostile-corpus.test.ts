// Fault case (issue #7, "Hostile input corpus"): good records interleaved with every class of
// hostile input through the whole convoy on the real broker and registry. Each hostile record is
// dead-lettered exactly once by the splitter with its reason and origin; the good ones come out of
// the convoy in order, complete, byte for byte, without duplicates; the splitter never restarts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startConvoy } from '../harness/convoy.ts';
import { ServiceProcess } from '../harness/processes.ts';
import { uniqueName } from '../harness/stack.ts';
import { createTopics, deleteGroups, deleteTopics, endOffsets, testKafka, withAdmin } from '../harness/topics.ts';
import { CORPUS_SPLITTER_ENV, hostileCorpus, INPUT_MAX_MESSAGE_BYTES, type CorpusRecord } from './corpus/hostile-records.ts';
import { readRaw, type RawRecord } from './corpus/raw-topic.ts';

const PARTITIONS = 2;
const GOOD = 400;

async function produceInOrder(topic: string, corpus: readonly CorpusRecord[]): Promise<void> {
  const producer = testKafka().producer({ allowAutoTopicCreation: false });
  await producer.connect();
  try {
    // Large records alone, so no request exceeds the topic limit; one partition after the other keeps each partition's order.
    let pending: CorpusRecord[] = [];
    const flush = async () => {
      if (pending.length === 0) return;
      const messages = pending.map((r) => ({ partition: r.partition, key: r.key, value: r.value, headers: r.headers }));
      pending = [];
      await producer.send({ topic, acks: -1, messages });
    };
    for (const record of corpus) {
      if ((record.value?.length ?? 0) > 100_000) {
        await flush();
        pending.push(record);
        await flush();
      } else pending.push(record);
      if (pending.length >= 200) await flush();
    }
    await flush();
  } finally {
    await producer.disconnect();
  }
}

const text = (r: RawRecord, name: string) => r.headers[name]?.toString('utf8');

test('hostile corpus: every hostile record is dead-lettered once with its reason; the good ones come out in order, intact; the splitter keeps running', async (t) => {
  const convoy = await startConvoy(t, {
    sourcePartitions: PARTITIONS,
    workers: 2,
    splitterEnv: { SPLITTER_MARKER_INTERVAL_MS: '100', SPLITTER_MARKER_IDLE_INTERVAL_MS: '500', ...CORPUS_SPLITTER_ENV },
    workerEnv: { WORKER_PROCESSOR: 'identity' },
  });
  const { input, ordered, dlq } = convoy.topics;
  await withAdmin((admin) =>
    admin.alterConfigs({ validateOnly: false, resources: [{ type: 2 /* TOPIC */, name: input, configEntries: [{ name: 'max.message.bytes', value: String(INPUT_MAX_MESSAGE_BYTES) }] }] }),
  );
  const pid = convoy.splitter.pid;

  const corpus = hostileCorpus({ partitions: PARTITIONS, good: GOOD, seed: 2026, now: Date.now() });
  const hostile = corpus.filter((r) => r.code !== undefined);
  const good = corpus.filter((r) => r.code === undefined);
  await produceInOrder(input, corpus);
  // A plain producer writes consecutive offsets from 0, so each record's offset is its index in its partition.
  const ends = await endOffsets(input);
  for (let p = 0; p < PARTITIONS; p++) assert.equal(ends.get(p), corpus.filter((r) => r.partition === p).length, `input partition ${p}`);

  const out = await readRaw(ordered, { until: (rs) => rs.length >= good.length, timeoutMs: 180_000 });
  const dead = await readRaw(dlq, { until: (rs) => rs.length >= hostile.length, timeoutMs: 60_000 });

  // Dead letters: exactly the hostile records, once each, from the splitter, with code and origin.
  const origin = (r: RawRecord) => `${text(r, '__connect.errors.partition')}/${text(r, '__connect.errors.offset')}`;
  assert.deepEqual(
    dead.map((r) => `${text(r, 'convoy-error-stage')} ${origin(r)} ${text(r, 'convoy-error-code')}`).sort(),
    hostile.map((r) => `splitter ${r.partition}/${r.offset} ${r.code}`).sort(),
  );
  const byOrigin = new Map(hostile.map((r) => [`${r.partition}/${r.offset}`, r]));
  for (const d of dead) {
    const original = byOrigin.get(origin(d))!;
    assert.equal(text(d, '__connect.errors.topic'), input);
    assert.equal(d.headers['kafka_dlt-original-offset']?.readBigInt64BE(0), BigInt(original.offset), original.kind);
    assert.ok((text(d, 'convoy-error-message') ?? '').length > 0, original.kind);
    if (original.valueOmitted === true) {
      assert.equal(d.value, null, original.kind);
      assert.equal(text(d, 'convoy-error-omitted'), 'value', original.kind);
      assert.equal(text(d, 'convoy-error-omitted-bytes'), `value=${original.value!.length}`, original.kind);
    } else {
      assert.deepEqual(d.value, original.value, `${original.kind}: the dead letter keeps the original value`);
    }
    assert.deepEqual(d.key, original.key, original.kind);
  }

  // Ordered output: per source partition, exactly the good records in input order, byte for byte.
  for (let p = 0; p < PARTITIONS; p++) {
    const expected = good.filter((r) => r.partition === p);
    const actual = out.filter((r) => r.partition === p);
    assert.deepEqual(
      actual.map((r) => Number(text(r, 'convoy-seq'))),
      expected.map((r) => r.offset),
      `partition ${p}: good records in order, complete, no duplicates`,
    );
    for (const [i, r] of actual.entries()) {
      const want = expected[i]!;
      assert.deepEqual([r.key, r.value, r.headers['x-foreign'], r.headers['event-time']], [want.key, want.value, want.headers['x-foreign'], want.headers['event-time']], want.kind);
    }
  }
  assert.equal(out.length, good.length);
  assert.ok(good.some((r) => r.kind === 'good-random-bytes-key') && good.some((r) => r.kind === 'good-malformed-utf8-foreign-header'));

  // The splitter never restarted and counted every dead letter by reason.
  assert.equal(convoy.splitter.pid, pid);
  assert.equal(convoy.splitter.running, true);
  await convoy.splitter.ready(10_000);
  const codes = new Map<string, number>();
  for (const r of hostile) codes.set(r.code!, (codes.get(r.code!) ?? 0) + 1);
  for (const [code, n] of codes) assert.equal(await convoy.splitter.metric('convoy_splitter_dead_lettered_total', { code }), n, code);
  assert.equal(await convoy.splitter.metric('convoy_splitter_dead_letters_trimmed_total'), hostile.filter((r) => r.valueOmitted === true).length);
  t.diagnostic(`${good.length} good + ${hostile.length} hostile records (${codes.size} codes: ${[...codes].map(([c, n]) => `${c}×${n}`).join(', ')})`);
});

test('hostile corpus, SPLITTER_KEY_SOURCE=key: null and empty keys and tombstones are dead-lettered; opaque random-bytes values pass untouched', async (t) => {
  const input = uniqueName('hostile-key-in');
  const substreams = uniqueName('hostile-key-subs');
  const dlq = uniqueName('hostile-key-dlq');
  const group = uniqueName('hostile-key-group');
  await createTopics([{ topic: input, partitions: 1 }]);
  t.after(async () => {
    await deleteTopics([input, substreams, `${substreams}.splitter-state`, dlq]).catch(() => undefined);
    await deleteGroups([group]).catch(() => undefined);
  });
  const noise = Buffer.from('fe9f3c01ffe2a4c3287b5d00ee91', 'hex');
  const records: { key: Buffer | null; value: Buffer | null; code?: string }[] = [];
  for (let i = 0; i < 60; i++) {
    records.push({ key: Buffer.from(`c-${i % 9}`), value: i % 10 === 3 ? noise : Buffer.from(`{"id":${i}}`) });
    if (i % 20 === 4) records.push({ key: null, value: Buffer.from('{"id":-1}'), code: 'SPLITTER_MISSING_CUSTOMER_ID' });
    if (i % 20 === 9) records.push({ key: Buffer.alloc(0), value: Buffer.from('{"id":-1}'), code: 'SPLITTER_MISSING_CUSTOMER_ID' });
    if (i % 20 === 14) records.push({ key: Buffer.from('c-1'), value: null, code: 'SPLITTER_NULL_VALUE' });
  }
  const producer = testKafka().producer({ allowAutoTopicCreation: false });
  await producer.connect();
  await producer.send({ topic: input, acks: -1, messages: records.map((r) => ({ partition: 0, key: r.key, value: r.value })) });
  await producer.disconnect();
  assert.equal((await endOffsets(input)).get(0), records.length);

  const splitter = await ServiceProcess.start({
    service: 'splitter',
    env: { SPLITTER_INPUT_TOPIC: input, SPLITTER_SUBSTREAMS_TOPIC: substreams, SPLITTER_SUBSTREAMS: '3', SPLITTER_DLQ_TOPIC: dlq, SPLITTER_GROUP_ID: group, SPLITTER_TRANSACTIONAL_ID_PREFIX: group },
  });
  t.after(() => splitter.kill());
  await splitter.ready(90_000);
  const pid = splitter.pid;

  const hostile = records.flatMap((r, offset) => (r.code === undefined ? [] : [`${offset} ${r.code}`]));
  const good = records.flatMap((r, offset) => (r.code === undefined ? [{ ...r, offset }] : []));
  const isData = (r: RawRecord) => text(r, 'convoy-kind') === 'data';
  const data = (await readRaw(substreams, { until: (rs) => rs.filter(isData).length >= good.length, timeoutMs: 60_000 })).filter(isData);
  const dead = await readRaw(dlq, { until: (rs) => rs.length >= hostile.length, timeoutMs: 30_000 });
  assert.deepEqual(dead.map((r) => `${text(r, '__connect.errors.offset')} ${text(r, 'convoy-error-code')}`).sort(), hostile.sort());
  data.sort((a, b) => Number(text(a, 'convoy-seq')) - Number(text(b, 'convoy-seq')));
  assert.deepEqual(data.map((r) => Number(text(r, 'convoy-seq'))), good.map((r) => r.offset), 'every good record once');
  assert.deepEqual(data.map((r) => [r.key, r.value]), good.map((r) => [r.key, r.value]), 'keys and values byte for byte');
  assert.equal(splitter.pid, pid);
  await splitter.ready(10_000);
});
