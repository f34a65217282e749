// Affinity on the real broker: hash routing keeps each customer on one worker, so the enrich
// processor's per-worker cache stays hot; round-robin routing (the baseline) spreads every customer
// over every worker and thrashes the same cache. Both keep exact source order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { orderEvents, produceInput, readInput, readOrderedSettled, startConvoy, verdict, type RunningConvoy } from '../harness/convoy.ts';
import { readTopic, type ReadRecord } from '../harness/topics.ts';

const EVENTS = 12_000;
const CUSTOMERS = 600;
const WORKERS = 3;
/** Hash routing gives each worker ~1/3 of the customers (≈200, all of them fit); round-robin gives each all 600. */
const CACHE_SIZE = 250;
/**
 * Hash = 0.95 (only each customer's first lookup misses). Round-robin measured 0.57, 0.68 and 0.76
 * in three runs on a shared 2-core machine — above the ≈0.42 an LRU of 250 over 600 uniform
 * customers predicts (not yet explained) — so the asserted margin is modest.
 */
const MIN_HIT_RATIO_MARGIN = 0.1;
/** Round-robin goes to the store at least this many times as often as hash routing (measured 4.9–10×). */
const MIN_MISS_FACTOR = 2;

const ENRICH = { WORKER_PROCESSOR: 'enrich', WORKER_CACHE_SIZE: String(CACHE_SIZE), WORKER_STORE_LATENCY_MS: '1' };
const FAST_MARKERS = { SPLITTER_MARKER_INTERVAL_MS: '100', SPLITTER_MARKER_IDLE_INTERVAL_MS: '500' };

async function hitRatio(convoy: RunningConvoy): Promise<{ hits: number; misses: number; ratio: number }> {
  let hits = 0;
  let misses = 0;
  for (const w of convoy.workers) {
    hits += await w.metric('convoy_worker_cache_hits_total');
    misses += await w.metric('convoy_worker_cache_misses_total');
  }
  return { hits, misses, ratio: hits + misses === 0 ? 0 : hits / (hits + misses) };
}

/** Customer key → the sub-stream partitions its data events went to. */
async function routes(convoy: RunningConvoy): Promise<Map<string, Set<number>>> {
  const substreams = await readTopic(convoy.topics.substreams, { idleMs: 2_000 });
  const route = new Map<string, Set<number>>();
  for (const r of substreams) {
    if (r.headers['convoy-kind'] !== 'data' || r.key === null) continue;
    const set = route.get(r.key) ?? new Set<number>();
    set.add(r.partition);
    route.set(r.key, set);
  }
  return route;
}

/** The enriched output with its `profile` removed, so it can be compared byte for byte with the input. */
function unenriched(output: readonly ReadRecord[]): ReadRecord[] {
  return output.map((r) => {
    const event = JSON.parse(r.value?.toString() ?? 'null') as Record<string, unknown>;
    assert.equal(typeof event['profile'], 'object', `record without a profile: ${r.value?.toString()}`);
    delete event['profile'];
    return { ...r, value: Buffer.from(JSON.stringify(event)) };
  });
}

test('affinity: hash routing keeps every customer on one worker and beats round-robin on enrich cache hits, both in order', async (t) => {
  const [hash, roundRobin] = await Promise.all([
    startConvoy(t, { sourcePartitions: 3, workers: WORKERS, splitterEnv: FAST_MARKERS, workerEnv: ENRICH }),
    startConvoy(t, { sourcePartitions: 3, workers: WORKERS, splitterEnv: { ...FAST_MARKERS, SPLITTER_MODE: 'round-robin' }, workerEnv: ENRICH }),
  ]);
  const started = Date.now();
  const records = orderEvents(EVENTS, CUSTOMERS, 11);
  await Promise.all([produceInput(hash, records), produceInput(roundRobin, records)]);

  for (const [name, convoy] of [['hash', hash], ['round-robin', roundRobin]] as const) {
    const input = await readInput(convoy, EVENTS);
    const output = await readOrderedSettled(convoy, EVENTS);
    const v = verdict(input, unenriched(output));
    t.diagnostic(`${name}: verdict ${JSON.stringify(v)} after ${((Date.now() - started) / 1000).toFixed(1)} s`);
    assert.equal(v.ok, true, `${name}: ${v.problems.join('; ')}`);
    assert.equal(output.length, EVENTS, name);
  }

  const customers = new Set(records.map((r) => String(r.key)));
  const hashRoutes = await routes(hash);
  assert.equal(hashRoutes.size, customers.size);
  const split = [...hashRoutes].filter(([, partitions]) => partitions.size !== 1).map(([key]) => key);
  assert.deepEqual(split, [], 'customers split across workers under hash routing');
  // The baseline really does spread customers, or the comparison below would prove nothing.
  const rrRoutes = await routes(roundRobin);
  assert.ok([...rrRoutes.values()].every((partitions) => partitions.size > 1), 'round-robin kept a customer on one worker');

  const hashHits = await hitRatio(hash);
  const rrHits = await hitRatio(roundRobin);
  t.diagnostic(`cache hit ratio: hash ${hashHits.ratio.toFixed(3)} (${hashHits.hits}/${hashHits.hits + hashHits.misses}), round-robin ${rrHits.ratio.toFixed(3)} (${rrHits.hits}/${rrHits.hits + rrHits.misses})`);
  // At least once per event: a batch replayed after a rebalance or an aborted transaction looks up again.
  assert.ok(hashHits.hits + hashHits.misses >= EVENTS, 'a hash-routed event was never looked up');
  assert.ok(rrHits.hits + rrHits.misses >= EVENTS, 'a round-robin event was never looked up');
  assert.ok(
    hashHits.ratio >= rrHits.ratio + MIN_HIT_RATIO_MARGIN,
    `hash hit ratio ${hashHits.ratio.toFixed(3)} does not beat round-robin ${rrHits.ratio.toFixed(3)} by ${MIN_HIT_RATIO_MARGIN}`,
  );
  assert.ok(rrHits.misses >= MIN_MISS_FACTOR * hashHits.misses, `round-robin store calls ${rrHits.misses} < ${MIN_MISS_FACTOR} × hash ${hashHits.misses}`);
});
