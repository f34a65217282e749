// Fault case 5 (issue #7): one worker frozen (SIGSTOP) with a gap timeout far away, so every
// source partition has a gap that nothing closes while the other worker keeps feeding the merger.
// With small caps the merger's buffer must stay at or under them, overflow (force-oldest-gap) must
// fire and be counted, the merger's RSS must stay flat, and after SIGCONT nothing is lost
// (MERGER_NEVER_DROP: ordered ∪ late = input).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readInput, startConvoy } from '../harness/convoy.ts';
import { freeze, lateTopicOf, rssKiB, sampleEvery, startLoad, stats, thaw, unionVerdict, waitUntil } from '../harness/faults.ts';
import { sumMetric } from '../harness/processes.ts';
import { readTopic } from '../harness/topics.ts';

const CAPACITY = 2_000;
const CAPACITY_BYTES = 1024 * 1024;
const PAD = 16_384;
/** How long the frozen worker keeps the buffer full after the first overflow. */
const FULL_MS = 45_000;
/** The heap grows to its working size during the first seconds of a full buffer (seen: +45 MiB in 15 s, then flat). */
const WARM_UP_MS = 15_000;
/**
 * Generous: on this shared machine a busy Node process's RSS moves by up to ~30 MiB between samples
 * even when flat. It catches gross growth only; the exact check is the buffer gauge. A control run
 * with the caps lifted held 37.5 MB in the buffer after 40 s and its RSS rose steadily (175 → 235 MiB).
 */
const RSS_SPREAD_LIMIT_KIB = 64 * 1024;

test('back-pressure: a frozen worker, merger capped at 2,000 events / 1 MiB per partition: buffer within caps, overflow counted, RSS flat, none lost', async (t) => {
  const convoy = await startConvoy(t, {
    // 3 source partitions over 2 sub-streams: with equal counts the splitter's murmur2(key) mod N
    // equals the producer's partition, each source would feed one worker only, and no gap would
    // ever be observable (a frozen worker would just stall its source).
    sourcePartitions: 3,
    workers: 2,
    splitterEnv: { SPLITTER_MARKER_INTERVAL_MS: '100', SPLITTER_MARKER_IDLE_INTERVAL_MS: '500' },
    workerEnv: { KAFKA_SESSION_TIMEOUT_MS: '90000' },
    mergerEnv: {
      MERGER_GAP_TIMEOUT_MS: '600s',
      MERGER_CAPACITY: String(CAPACITY),
      MERGER_CAPACITY_BYTES: String(CAPACITY_BYTES),
      MERGER_OVERFLOW: 'force-oldest-gap',
      MERGER_LATE_POLICY: 'route-late',
      MERGER_NEVER_DROP: 'true',
    },
  });
  const load = startLoad(convoy.topics.input, { ratePerSec: 300, total: 500_000, seed: 55, padBytes: PAD });
  t.after(() => load.stop());
  const merger = convoy.merger;
  await waitUntil(async () => (await merger.metric('convoy_merger_events_out_total')) >= 1_500, 120_000, () => 'nothing came out of the merger');

  const victim = convoy.workers[1]!;
  t.after(() => thaw(victim));
  freeze(victim);
  const frozenAt = Date.now();
  const buffer = sampleEvery(500, async () => {
    const text = await merger.metrics();
    const perPartition = (name: string) => [0, 1, 2].map((p) => sumMetric(text, name, { partition: String(p) }));
    return { events: Math.max(...perPartition('convoy_merger_buffer_events')), bytes: Math.max(...perPartition('convoy_merger_buffer_bytes')) };
  });
  // RSS from the moment the buffer is full (overflow fires) on: from then on it must not grow.
  await waitUntil(async () => (await merger.metric('convoy_merger_gaps_resolved_total', { by: 'overflow' })) > 0, 90_000, () => 'overflow never fired');
  const fullAfter = Date.now() - frozenAt;
  const rss = sampleEvery(1_000, () => {
    const kib = rssKiB(merger.pid);
    if (kib === undefined) throw new Error('merger gone');
    return kib;
  });
  await new Promise((r) => setTimeout(r, FULL_MS));
  await Promise.all([buffer.stop(), rss.stop()]);
  const overflowWhileFrozen = await merger.metric('convoy_merger_gaps_resolved_total', { by: 'overflow' });
  const timeoutsWhileFrozen = await merger.metric('convoy_merger_gaps_resolved_total', { by: 'timeout' });
  const releasedWhileFull = await merger.metric('convoy_merger_events_out_total');
  thaw(victim);
  const frozenFor = Date.now() - frozenAt;
  await new Promise((r) => setTimeout(r, 5_000));
  await load.stop();

  const sent = load.produced();
  const input = await readInput(convoy, sent);
  await waitUntil(
    async () => (await merger.metric('convoy_merger_events_out_total')) + (await merger.metric('convoy_merger_late_total', { policy: 'route-late' })) >= input.length,
    180_000,
    () => `the merger did not account for all ${input.length} input records:\n${merger.logTail(10)}`,
  );
  const ordered = await readTopic(convoy.topics.ordered, { idleMs: 3_000, timeoutMs: 120_000 });
  const late = await readTopic(lateTopicOf(convoy), { idleMs: 3_000, timeoutMs: 120_000 });
  const v = unionVerdict(input, ordered, late);

  const steady = rss.samples.filter((s) => s.atMs >= WARM_UP_MS).map((s) => s.value);
  const rssStats = stats(steady);
  const bufferEvents = stats(buffer.samples.map((s) => s.value.events));
  const bufferBytes = stats(buffer.samples.map((s) => s.value.bytes));
  const counted = {
    overflowWhileFrozen,
    timeoutsWhileFrozen,
    rejections: await merger.metric('convoy_merger_back_pressure_rejections_total'),
    routedLate: await merger.metric('convoy_merger_late_total', { policy: 'route-late' }),
    dropped: await merger.metric('convoy_merger_late_total', { policy: 'drop' }),
  };
  t.diagnostic(
    `frozen ${victim.name} ${frozenFor} ms, buffer full (first overflow) after ${fullAfter} ms, ${releasedWhileFull} released by then; merger buffer max ${bufferEvents.max} events / ${bufferBytes.max} bytes over ${buffer.samples.length} samples; ` +
      `RSS after ${WARM_UP_MS} ms warm-up: min ${rssStats.min} KiB, max ${rssStats.max} KiB, spread ${rssStats.max - rssStats.min} KiB over ${steady.length} samples; ` +
      `${JSON.stringify(counted)}; input ${input.length}; verdict ${JSON.stringify(v)}; RSS MiB every 5 s: ${steady.filter((_, i) => i % 5 === 0).map((k) => (k / 1024).toFixed(0)).join(' ')}`,
  );
  assert.ok(buffer.samples.length >= 60, `only ${buffer.samples.length} buffer samples`);
  assert.ok(bufferEvents.max <= CAPACITY, `buffer held ${bufferEvents.max} events`);
  assert.ok(bufferBytes.max <= CAPACITY_BYTES, `buffer held ${bufferBytes.max} bytes`);
  assert.ok(bufferBytes.max >= CAPACITY_BYTES / 2, `the buffer never came near its cap (${bufferBytes.max} bytes): the test did not test overflow`);
  assert.ok(overflowWhileFrozen > 0, 'overflow never fired');
  assert.equal(timeoutsWhileFrozen, 0);
  assert.ok(steady.length >= 25);
  assert.ok(rssStats.max - rssStats.min < RSS_SPREAD_LIMIT_KIB, `merger RSS spread ${rssStats.max - rssStats.min} KiB`);
  assert.equal(v.ok, true, v.problems.join('; '));
  assert.ok(late.length > 0);
  assert.equal(counted.routedLate, late.length);
  assert.equal(counted.dropped, 0);
});
