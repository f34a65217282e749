/**
 * The merger against the real broker: processed records of two sub-streams, out of order, with
 * filtered events and progress markers, come out of convoy.ordered in exact source order, gaps
 * resolved by markers only; after a kill -9 and more input nothing is emitted twice or skipped.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ServiceProcess } from '../harness/processes.ts';
import { uniqueName, testStack } from '../harness/stack.ts';
import { createTopics, deleteGroups, deleteTopics, produce, readTopic, type ProduceRecord, type ReadRecord } from '../harness/topics.ts';

const SOURCES = 2; // source partitions = partitions of the processed topic
const SUBS = 2;
const MARKER_EVERY = 20;

const filtered = (seq: number) => seq % 10 === 3;
const subOf = (seq: number) => (seq * 7 + 3) % SUBS;

/** Deterministic pseudo-random interleaving (no Math.random: failures must reproduce). */
function lcg(seed: number): () => number {
  let x = seed;
  return () => {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    return x / 2 ** 31;
  };
}

/**
 * What the workers would write to the processed topic for seqs [from, to) of one source partition:
 * each sub-stream's data (minus filtered) and a marker round every MARKER_EVERY seqs, in position;
 * sub-streams interleaved at random. `withhold` drops sub-stream 1's last marker round (it comes
 * with the next phase), so some records stay held.
 */
function processed(sourceTopic: string, p: number, from: number, to: number, rand: () => number, withhold: boolean): ProduceRecord[] {
  const streams: ProduceRecord[][] = Array.from({ length: SUBS }, () => []);
  const source = `${sourceTopic}/${p}`;
  for (let seq = from; seq < to; seq++) {
    const sub = subOf(seq);
    if (!filtered(seq)) {
      streams[sub]?.push({
        partition: p,
        key: `customer-${seq % 13}`,
        value: JSON.stringify({ p, seq }),
        headers: {
          'convoy-kind': 'data',
          'convoy-seq': String(seq),
          ...(seq > 0 ? { 'convoy-prev': String(seq - 1) } : {}),
          'convoy-source': source,
          'convoy-event-time': String(1_700_000_000_000 + seq),
          'convoy-substream': String(sub),
          'convoy-epoch': '0',
          'user-header': `u${seq}`,
        },
      });
    }
    const last = seq === to - 1;
    if (seq % MARKER_EVERY === MARKER_EVERY - 1 || last) {
      for (let k = 0; k < SUBS; k++) {
        if (withhold && last && k === 1) continue;
        streams[k]?.push({
          partition: p,
          key: null,
          value: null,
          headers: {
            'convoy-kind': 'progress',
            'convoy-seq': String(seq),
            'convoy-source': source,
            'convoy-substream': String(k),
            'convoy-epoch': '0',
            'convoy-substreams': String(SUBS),
          },
        });
      }
    }
  }
  const out: ProduceRecord[] = [];
  while (streams.some((s) => s.length > 0)) {
    const live = streams.filter((s) => s.length > 0);
    out.push((live[Math.floor(rand() * live.length)] as ProduceRecord[]).shift() as ProduceRecord);
  }
  return out;
}

function expectedSeqs(from: number, to: number): number[] {
  const out: number[] = [];
  for (let seq = from; seq < to; seq++) if (!filtered(seq)) out.push(seq);
  return out;
}

function seqsByPartition(records: readonly ReadRecord[]): Map<number, number[]> {
  const by = new Map<number, number[]>();
  for (const r of [...records].sort((a, b) => a.offset - b.offset)) {
    let list = by.get(r.partition);
    if (list === undefined) by.set(r.partition, (list = []));
    list.push(Number(r.headers['convoy-seq']));
  }
  return by;
}

test('merger: exact order with markers only, then kill -9 and restart without duplicates or loss', { timeout: 180_000 }, async (t) => {
  testStack();
  const sourceTopic = uniqueName('merger-src');
  const input = uniqueName('merger-processed');
  const output = uniqueName('merger-ordered');
  const group = uniqueName('merger-group');
  await createTopics([{ topic: input, partitions: SOURCES }]);
  t.after(async () => {
    await deleteTopics([input, output, `${output}.late`]);
    await deleteGroups([group]);
  });

  const rand = lcg(42);
  const phase1 = 300;
  const phase2 = 600;
  const first: ProduceRecord[] = [];
  for (let p = 0; p < SOURCES; p++) first.push(...processed(sourceTopic, p, 0, phase1, rand, true));
  await produce(input, first);

  const merger = await ServiceProcess.start({
    service: 'merger',
    name: 'merger',
    env: {
      KAFKA_BROKERS: testStack().brokers.join(','),
      MERGER_INPUT_TOPIC: input,
      MERGER_OUTPUT_TOPIC: output,
      MERGER_GROUP_ID: group,
      MERGER_DLQ_TOPIC: `${output}.dlq`,
      MERGER_GAP_TIMEOUT_MS: '120s',
      MERGER_TICK_INTERVAL_MS: '100ms',
      LOG_LEVEL: 'info',
    },
  });
  t.after(async () => {
    await merger.kill('SIGKILL');
    await deleteTopics([`${output}.dlq`]);
  });
  await merger.ready();

  // Phase 1: sub-stream 1's last marker round (299) is withheld, so the last complete round (279)
  // proves nothing about the filtered 283: everything after it stays held and the commit behind it.
  const held = expectedSeqs(0, phase1).filter((s) => s > 283);
  const releasedFirst = expectedSeqs(0, phase1).filter((s) => s < 283);
  const read1 = await readTopic(output, { until: (r) => r.length >= SOURCES * releasedFirst.length, timeoutMs: 60_000 });
  const by1 = seqsByPartition(read1);
  for (let p = 0; p < SOURCES; p++) assert.deepEqual(by1.get(p), releasedFirst, `partition ${p}, phase 1\n${merger.logTail()}`);
  const sample = read1.find((r) => r.partition === 1 && r.headers['convoy-seq'] === '5');
  assert.ok(sample !== undefined);
  assert.equal(sample.key, 'customer-5');
  assert.deepEqual(JSON.parse(sample.value?.toString() ?? ''), { p: 1, seq: 5 });
  assert.equal(sample.headers['user-header'], 'u5');
  assert.equal(sample.headers['convoy-source'], `${sourceTopic}/1`);
  assert.equal(sample.headers['convoy-substream'], undefined, 'sub-stream path headers are not copied');
  assert.equal(await merger.metric('convoy_merger_gaps_resolved_total', { by: 'timeout' }), 0);
  assert.ok((await merger.metric('convoy_merger_gaps_resolved_total', { by: 'marker' })) > 0);
  assert.equal(await merger.metric('convoy_merger_buffer_events'), SOURCES * held.length);

  // kill -9 with records held: the committed input offset is behind them, so the restarted merger
  // re-reads records it already released; the output tail tells it to drop those as duplicates.
  await merger.restart();
  const second: ProduceRecord[] = [];
  for (let p = 0; p < SOURCES; p++) {
    // The withheld round first (sub-stream 1 catches up), then the next phase.
    second.push({
      partition: p,
      key: null,
      value: null,
      headers: {
        'convoy-kind': 'progress',
        'convoy-seq': String(phase1 - 1),
        'convoy-source': `${sourceTopic}/${p}`,
        'convoy-substream': '1',
        'convoy-epoch': '0',
        'convoy-substreams': String(SUBS),
      },
    });
    second.push(...processed(sourceTopic, p, phase1, phase2, rand, false));
  }
  await produce(input, second);

  const all = expectedSeqs(0, phase2);
  await readTopic(output, { until: (r) => r.length >= SOURCES * all.length, timeoutMs: 60_000 });
  // Read again until idle, so a late duplicate would be caught too.
  const read2 = await readTopic(output, { idleMs: 3_000, timeoutMs: 60_000 });
  const by2 = seqsByPartition(read2);
  for (let p = 0; p < SOURCES; p++) assert.deepEqual(by2.get(p), all, `partition ${p}, after restart\n${merger.logTail()}`);
  assert.equal(read2.length, SOURCES * all.length, 'no duplicates');
  assert.ok((await merger.metric('convoy_merger_duplicates_total')) > 0, 're-read records were recognised as duplicates');
  assert.equal(await merger.metric('convoy_merger_gaps_resolved_total', { by: 'timeout' }), 0);
  assert.equal(await merger.metric('convoy_merger_buffer_events'), 0);
  const late = await readTopic(`${output}.late`, { idleMs: 1_000, timeoutMs: 5_000 });
  assert.equal(late.length, 0);
});
