/**
 * kill -9 of the aggregator mid-run, then restart: the changelog write committed with the results
 * and the input offsets is restored, so no (window, version) appears twice, versions stay gapless,
 * no window is lost, and every window's last version is the exact aggregate of its events.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { produce, readTopic, type ProduceRecord, type ReadRecord } from '../harness/topics.ts';
import { json, startAggregator } from './aggregator-helpers.ts';

const PARTITIONS = 2;
const KEYS_PER_PARTITION = 5;
const STEPS = 1200; // per partition
const WINDOW = 10_000;

interface Expected {
  count: number;
  sum: number;
  min: number;
  max: number;
}

/** Steps [from, to) of every partition: events (some 20 s late, within the 60 s lateness) and a watermark every 20 steps. */
function trace(from: number, to: number, expected: Map<string, Expected>, last: boolean): ProduceRecord[] {
  const records: ProduceRecord[] = [];
  for (let p = 0; p < PARTITIONS; p++) {
    let maxTime = 0;
    for (let s = from; s < to; s++) {
      const key = `r${p}-${s % KEYS_PER_PARTITION}`;
      const onTime = s * 50;
      maxTime = Math.max(maxTime, onTime);
      const t = s % 25 === 24 && onTime >= 20_000 ? onTime - 20_000 : onTime;
      const amount = ((s * 7 + p) % 13) + 1;
      records.push({ partition: p, key, value: JSON.stringify({ amount }), headers: { 'convoy-event-time': String(t) } });
      const start = t - (t % WINDOW);
      const id = `${key}|${start}|${start + WINDOW}`;
      const e = expected.get(id);
      if (e === undefined) expected.set(id, { count: 1, sum: amount, min: amount, max: amount });
      else Object.assign(e, { count: e.count + 1, sum: e.sum + amount, min: Math.min(e.min, amount), max: Math.max(e.max, amount) });
      if (s % 20 === 19) records.push({ partition: p, key: null, value: null, headers: { 'convoy-kind': 'watermark', 'convoy-watermark': String(maxTime - 5_001) } });
    }
    if (last) records.push({ partition: p, key: null, value: null, headers: { 'convoy-kind': 'watermark', 'convoy-watermark': String(10_000_000) } });
  }
  return records;
}

function latestByWindow(records: readonly ReadRecord[]): Map<string, Record<string, unknown>> {
  const latest = new Map<string, Record<string, unknown>>();
  for (const r of records) {
    const v = json(r);
    const prev = latest.get(r.key!);
    if (prev === undefined || (prev['version'] as number) < (v['version'] as number)) latest.set(r.key!, v);
  }
  return latest;
}

function complete(records: readonly ReadRecord[], expected: Map<string, Expected>): boolean {
  const latest = latestByWindow(records);
  return [...expected].every(([id, e]) => latest.get(id)?.['count'] === e.count);
}

test('kill -9 mid-run and restart: no (window, version) twice, no window lost, exact final aggregates', async (t) => {
  const run = await startAggregator(t, PARTITIONS, {
    AGG_VALUE_FIELD: 'amount',
    AGG_WINDOW_SIZE_MS: String(WINDOW),
    AGG_ALLOWED_LATENESS_MS: '60000',
    AGG_MAX_BATCH_RECORDS: '25',
  });
  const expected = new Map<string, Expected>();
  await produce(run.input, trace(0, STEPS / 2, expected, false));
  await readTopic(run.output, { until: (records) => records.length >= 10, timeoutMs: 30_000 });
  await run.proc.kill('SIGKILL');
  await produce(run.input, trace(STEPS / 2, STEPS, expected, true));
  run.proc.spawn();
  await run.proc.ready();

  const results = await readTopic(run.output, { until: (records) => complete(records, expected), timeoutMs: 45_000 });
  assert.ok(complete(results, expected), `every window reached its full aggregate (${latestByWindow(results).size} of ${expected.size} windows seen)\n${run.proc.logTail(60)}`);
  assert.ok((await run.proc.metric('convoy_aggregator_restores_total', { from: 'changelog' })) >= 1, 'the restart restored state from the changelog');

  const restored = run.proc.logs().filter((line) => line.includes('"restored":true'));
  t.diagnostic(`restored partitions after the kill: ${restored.map((line) => JSON.stringify({ partition: JSON.parse(line).partition, inputNext: JSON.parse(line).inputNext })).join(' ')}`);

  const versions = new Map<string, number[]>();
  for (const r of results) {
    const v = json(r);
    assert.equal(r.key, `${v['key']}|${v['windowStart']}|${v['windowEnd']}`);
    assert.equal(r.headers['convoy-result-version'], String(v['version']));
    assert.equal(r.headers['convoy-result-kind'], v['version'] === 1 ? 'final' : 'correction');
    versions.set(r.key!, [...(versions.get(r.key!) ?? []), v['version'] as number]);
  }
  for (const [id, list] of versions) {
    assert.deepEqual(list, Array.from({ length: list.length }, (_, i) => i + 1), `versions of ${id} are 1..n, each once, in order`);
  }
  assert.deepEqual([...versions.keys()].sort(), [...expected.keys()].sort(), 'no window lost, none invented');
  const latest = latestByWindow(results);
  for (const [id, e] of expected) {
    const v = latest.get(id)!;
    assert.deepEqual({ count: v['count'], sum: v['sum'], min: v['min'], max: v['max'] }, e, id);
  }
  const corrections = results.filter((r) => r.headers['convoy-result-kind'] === 'correction').length;
  assert.ok(corrections > 0, 'the trace produced corrections');
  const late = await readTopic(run.late, { idleMs: 1_000, timeoutMs: 3_000 });
  assert.equal(late.length, 0, 'nothing was late beyond the allowed lateness');
});
