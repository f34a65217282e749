/**
 * The splitter as a real process against a real broker: a 2-partition input is split into 4
 * sub-streams, read back with read_committed. Asserts exact routing (Kafka's murmur2 vectors),
 * seq/prev/source headers, stripped input headers, a dead letter, and markers in every sub-stream
 * after the data; then a kill -9 and restart, after which prev links continue from the committed offset.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ServiceProcess } from '../harness/processes.ts';
import { uniqueName } from '../harness/stack.ts';
import { createTopics, deleteGroups, deleteTopics, produce, readTopic, type ReadRecord } from '../harness/topics.ts';

// Kafka's murmur2 test vectors: "21" → -973932308, "foobar" → -790332482, "abc" → 479470107;
// toPositive(h) % 4 = 0, 2, 3.
const PARTITION_OF: Record<string, number> = { '21': 0, foobar: 2, abc: 3 };

const isData = (r: ReadRecord) => r.headers['convoy-kind'] === 'data';
const isMarker = (r: ReadRecord) => r.headers['convoy-kind'] === 'progress';

/** Every sub-stream holds a marker of `source` with seq ≥ `upTo`. */
function markersCover(records: readonly ReadRecord[], source: string, upTo: number, substreams: number): boolean {
  for (let k = 0; k < substreams; k++) {
    const ok = records.some((r) => r.partition === k && isMarker(r) && r.headers['convoy-source'] === source && Number(r.headers['convoy-seq']) >= upTo);
    if (!ok) return false;
  }
  return true;
}

test('splitter: exact routing, seq/prev, stripped headers, dead letter and markers in every sub-stream; prev survives kill -9', async (t) => {
  const input = uniqueName('it-split-in');
  const substreams = uniqueName('it-split-subs');
  const dlq = uniqueName('it-split-dlq');
  const group = uniqueName('it-split-group');
  await createTopics([{ topic: input, partitions: 2 }]);
  t.after(async () => {
    await deleteTopics([input, substreams, dlq]);
    await deleteGroups([group]);
  });

  await produce(input, [
    { partition: 0, key: '21', value: '{"n":0}', headers: { 'convoy-seq': '999', 'convoy-kind': 'progress', trace: 't0' } },
    { partition: 0, key: 'foobar', value: '{"n":1}' },
    { partition: 0, key: null, value: '{"n":2}' }, // no customer ID → dead letter
    { partition: 0, key: 'abc', value: '{"n":3}' },
    { partition: 1, key: 'abc', value: '{"n":4}' },
    { partition: 1, key: '21', value: '{"n":5}' },
  ]);

  const splitter = await ServiceProcess.start({
    service: 'splitter',
    name: 'splitter',
    env: {
      LOG_LEVEL: 'warn',
      SPLITTER_INPUT_TOPIC: input,
      SPLITTER_SUBSTREAMS_TOPIC: substreams,
      SPLITTER_SUBSTREAMS: '4',
      SPLITTER_DLQ_TOPIC: dlq,
      SPLITTER_GROUP_ID: group,
      SPLITTER_TRANSACTIONAL_ID_PREFIX: group,
      SPLITTER_MARKER_INTERVAL_MS: '100',
      SPLITTER_MARKER_IDLE_INTERVAL_MS: '500',
      // This test checks stripping; the default dead-letters records carrying convoy-* headers (hostile-input.md).
      SPLITTER_CONVOY_HEADERS_ON_INPUT: 'strip',
    },
  });
  t.after(() => splitter.kill());
  await splitter.ready();

  const src0 = `${input}/0`;
  const src1 = `${input}/1`;
  const first = await readTopic(substreams, {
    until: (rs) => rs.filter(isData).length >= 5 && markersCover(rs, src0, 3, 4) && markersCover(rs, src1, 1, 4),
    timeoutMs: 30_000,
  });
  const data = first.filter(isData).map((r) => ({ partition: r.partition, key: r.key, value: r.value?.toString(), headers: r.headers }));
  data.sort((a, b) => a.headers['convoy-source']!.localeCompare(b.headers['convoy-source']!) || Number(a.headers['convoy-seq']) - Number(b.headers['convoy-seq']));
  const expected = (source: string, key: string, seq: number, prev: number | undefined, value: string, extra: Record<string, string> = {}) => ({
    partition: PARTITION_OF[key]!,
    key,
    value,
    headers: {
      ...extra,
      'convoy-kind': 'data',
      'convoy-seq': String(seq),
      ...(prev === undefined ? {} : { 'convoy-prev': String(prev) }),
      'convoy-source': source,
      'convoy-substream': String(PARTITION_OF[key]),
      'convoy-epoch': '0',
    },
  });
  // Event time is the record timestamp: checked for presence, then compared without it.
  for (const d of data) assert.match(d.headers['convoy-event-time'] ?? '', /^\d{13}$/);
  for (const d of data) delete d.headers['convoy-event-time'];
  assert.deepEqual(data, [
    expected(src0, '21', 0, undefined, '{"n":0}', { trace: 't0' }),
    expected(src0, 'foobar', 1, 0, '{"n":1}'),
    expected(src0, 'abc', 3, 2, '{"n":3}'), // prev 2: the dead-lettered record
    expected(src1, 'abc', 0, undefined, '{"n":4}'),
    expected(src1, '21', 1, 0, '{"n":5}'),
  ]);

  // Markers: exact headers, and in each sub-stream every marker of a source comes after that source's data with seq ≤ S.
  const marker = first.find((r) => isMarker(r) && r.partition === 1 && r.headers['convoy-source'] === src0 && r.headers['convoy-seq'] === '3');
  assert.deepEqual(marker?.headers, {
    'convoy-kind': 'progress',
    'convoy-seq': '3',
    'convoy-source': src0,
    'convoy-substream': '1',
    'convoy-epoch': '0',
    'convoy-substreams': '4',
  });
  for (let k = 0; k < 4; k++) {
    const inPartition = first.filter((r) => r.partition === k).sort((a, b) => a.offset - b.offset);
    for (const [i, r] of inPartition.entries()) {
      if (!isMarker(r)) continue;
      const later = inPartition.slice(i + 1).filter((d) => isData(d) && d.headers['convoy-source'] === r.headers['convoy-source']);
      assert.ok(later.every((d) => Number(d.headers['convoy-seq']) > Number(r.headers['convoy-seq'])), `marker before its data in sub-stream ${k}`);
    }
  }

  const dead = await readTopic(dlq, { until: (rs) => rs.length >= 1, timeoutMs: 15_000 });
  assert.equal(dead.length, 1);
  assert.equal(dead[0]!.value?.toString(), '{"n":2}');
  assert.equal(dead[0]!.headers['convoy-error-code'], 'SPLITTER_MISSING_CUSTOMER_ID');
  assert.equal(dead[0]!.headers['convoy-error-stage'], 'splitter');
  assert.equal(dead[0]!.headers['__connect.errors.topic'], input);
  assert.equal(dead[0]!.headers['__connect.errors.partition'], '0');
  assert.equal(dead[0]!.headers['__connect.errors.offset'], '2');

  assert.equal(await splitter.metric('convoy_splitter_events_in_total'), 6);
  assert.equal(await splitter.metric('convoy_splitter_dead_lettered_total', { code: 'SPLITTER_MISSING_CUSTOMER_ID' }), 1);
  assert.equal(await splitter.metric('convoy_splitter_stripped_headers_total'), 2);

  // kill -9, produce more, restart: the first record after the restart links to committed offset - 1.
  await splitter.kill('SIGKILL');
  await produce(input, [{ partition: 0, key: 'abc', value: '{"n":6}' }]);
  splitter.spawn();
  await splitter.ready();
  const second = await readTopic(substreams, {
    until: (rs) => rs.some((r) => isData(r) && r.headers['convoy-source'] === src0 && r.headers['convoy-seq'] === '4'),
    timeoutMs: 30_000,
  });
  // Records of one source land in several sub-stream partitions, read in no fixed interleaving.
  const after = second
    .filter((r) => isData(r) && r.headers['convoy-source'] === src0)
    .map((r) => [r.headers['convoy-seq'], r.headers['convoy-prev'] ?? null])
    .sort((a, b) => Number(a[0]) - Number(b[0]));
  assert.deepEqual(after, [
    ['0', null],
    ['1', '0'],
    ['3', '2'],
    ['4', '3'],
  ]);
});
