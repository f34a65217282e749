// Fault case 3 (issue #7): a worker frozen (SIGSTOP) for longer than the merger's gap timeout.
// The merger moves on after the timeout (counted), the frozen worker's events arrive after SIGCONT
// and follow the late policy (route-late → the late topic), and with MERGER_NEVER_DROP=true none
// is lost: ordered ∪ late = input, the ordered topic still strictly in order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readInput, startConvoy, verdict } from '../harness/convoy.ts';
import { assignedPartitions, freeze, lateTopicOf, startLoad, thaw, unionVerdict, waitUntil } from '../harness/faults.ts';
import { readTopic } from '../harness/topics.ts';

const GAP_TIMEOUT_MS = 4_000;

test('stall: a worker SIGSTOPped past the gap timeout (4 s): timeouts counted, its events routed late, none lost', async (t) => {
  const convoy = await startConvoy(t, {
    // 3 source partitions over 2 sub-streams: with equal counts the splitter's murmur2(key) mod N
    // equals the producer's partition, each source would feed one worker only, and no gap would
    // ever be observable (a frozen worker would just stall its source).
    sourcePartitions: 3,
    workers: 2,
    splitterEnv: { SPLITTER_MARKER_INTERVAL_MS: '100', SPLITTER_MARKER_IDLE_INTERVAL_MS: '500' },
    // A frozen member keeps its partition (no rebalance hands it to the other worker): a pure stall.
    workerEnv: { KAFKA_SESSION_TIMEOUT_MS: '90000' },
    mergerEnv: { MERGER_GAP_TIMEOUT_MS: String(GAP_TIMEOUT_MS), MERGER_LATE_POLICY: 'route-late', MERGER_NEVER_DROP: 'true' },
  });
  const load = startLoad(convoy.topics.input, { ratePerSec: 800, total: 200_000, seed: 33 });
  t.after(() => load.stop());
  const m = (name: string, labels: Record<string, string> = {}) => convoy.merger.metric(name, labels);
  // Freeze only once events flow end to end, so the merger sees the gaps while it happens (not later, from a backlog).
  await waitUntil(async () => (await m('convoy_merger_events_out_total')) >= 3_000, 120_000, () => 'nothing came out of the merger');
  const victim = convoy.workers[1]!;
  const owned = assignedPartitions(victim).map((tp) => Number(tp.split('/').pop()));
  assert.equal(owned.length, 1, `${victim.name} owns ${owned.join(',')}`);
  t.after(() => thaw(victim));
  freeze(victim);
  const frozenAt = Date.now();
  // Frozen until the merger gave up on a gap (gap timeout + at most a tick, plus any backlog), and at least 10 s.
  await waitUntil(async () => (await m('convoy_merger_gaps_resolved_total', { by: 'timeout' })) > 0, 60_000, () => 'the merger never moved on while a worker was frozen');
  await new Promise((r) => setTimeout(r, Math.max(3_000, 10_000 - (Date.now() - frozenAt))));
  const timeoutsDuringStall = await m('convoy_merger_gaps_resolved_total', { by: 'timeout' });
  const lateDuringStall = await m('convoy_merger_late_total');
  thaw(victim);
  const frozenMs = Date.now() - frozenAt;
  await new Promise((r) => setTimeout(r, 5_000));
  await load.stop();

  const sent = load.produced();
  const input = await readInput(convoy, sent);
  // Every input record ends up released in order or routed late.
  await waitUntil(
    async () => (await convoy.merger.metric('convoy_merger_events_out_total')) + (await convoy.merger.metric('convoy_merger_late_total', { policy: 'route-late' })) >= input.length,
    180_000,
    () => `the merger did not account for all ${input.length} input records:\n${convoy.merger.logTail(10)}`,
  );
  const ordered = await readTopic(convoy.topics.ordered, { idleMs: 3_000, timeoutMs: 120_000 });
  const late = await readTopic(lateTopicOf(convoy), { idleMs: 3_000, timeoutMs: 120_000 });
  const v = unionVerdict(input, ordered, late);
  const metrics = {
    timeoutsDuringStall,
    lateDuringStall,
    gapsByTimeout: await m('convoy_merger_gaps_resolved_total', { by: 'timeout' }),
    gapsByMarker: await m('convoy_merger_gaps_resolved_total', { by: 'marker' }),
    routedLate: await m('convoy_merger_late_total', { policy: 'route-late' }),
    dropped: await m('convoy_merger_late_total', { policy: 'drop' }),
    released: await m('convoy_merger_events_out_total'),
  };
  t.diagnostic(`frozen ${victim.name} (sub-stream ${owned[0]}) for ${frozenMs} ms; input ${input.length}; merger ${JSON.stringify(metrics)}; verdict ${JSON.stringify(v)}`);
  assert.equal(v.ok, true, v.problems.join('; '));
  assert.ok(timeoutsDuringStall > 0, 'the merger did not move on while the worker was frozen');
  assert.equal(lateDuringStall, 0, 'nothing can be late before the frozen worker resumes');
  assert.ok(late.length > 0, 'nothing was routed late');
  assert.equal(metrics.routedLate, late.length);
  assert.equal(metrics.dropped, 0);
  assert.equal(metrics.released, ordered.length);
  // The ordered topic alone misses exactly the late records, and is otherwise exact.
  const lateSeqs = new Set(late.map((r) => `${r.partition}/${r.headers['convoy-seq']}`));
  const alone = verdict(input, ordered, (r) => lateSeqs.has(`${r.partition}/${r.offset}`));
  assert.equal(alone.ok, true, alone.problems.join('; '));

  // Every late record went through the frozen worker's sub-stream.
  const substreams = await readTopic(convoy.topics.substreams, { idleMs: 2_000 });
  const routeOf = new Map<string, number>();
  for (const r of substreams) if (r.headers['convoy-kind'] === 'data') routeOf.set(`${r.headers['convoy-source']?.split('/').pop()}/${r.headers['convoy-seq']}`, r.partition);
  const foreign = late.filter((r) => routeOf.get(`${r.partition}/${r.headers['convoy-seq']}`) !== owned[0]);
  assert.equal(foreign.length, 0, `${foreign.length} late records came through another sub-stream`);
});
