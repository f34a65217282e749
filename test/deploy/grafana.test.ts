// Static validation of the Grafana dashboard and provisioning (deploy/compose/grafana): Grafana has
// no Debian package and no local image, so the local compose run leaves it out and this test is
// what proves its files. Every PromQL expression is parsed with Prometheus' own Lezer grammar, and
// every metric it names must be registered by the code (`grafana-metric-names.ts`). No broker needed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { exprProblems, registeredMetricNames } from './grafana-metric-names.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const GRAFANA = `${ROOT}deploy/compose/grafana`;

interface Target { refId: string; expr: string; datasource?: { type: string; uid: string } }
interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { h: number; w: number; x: number; y: number };
  datasource?: { type: string; uid: string };
  targets?: Target[];
}
const dashboard = JSON.parse(readFileSync(`${GRAFANA}/dashboards/convoy.json`, 'utf8')) as { uid: string; title: string; panels: Panel[]; schemaVersion: number };
const datasources = parse(readFileSync(`${GRAFANA}/provisioning/datasources/prometheus.yml`, 'utf8')) as {
  apiVersion: number;
  datasources: { name: string; uid: string; type: string; url: string; access: string }[];
};
const providers = parse(readFileSync(`${GRAFANA}/provisioning/dashboards/convoy.yml`, 'utf8')) as {
  apiVersion: number;
  providers: { name: string; type: string; options: { path: string } }[];
};
const compose = parse(readFileSync(`${ROOT}docker-compose.yml`, 'utf8'), { merge: true }) as {
  services: Record<string, { volumes?: string[]; ports?: string[] }>;
};
const targets = dashboard.panels.flatMap((panel) => (panel.targets ?? []).map((target) => ({ panel, target })));
const names = registeredMetricNames(ROOT);

test('provisioning: one Prometheus datasource at the compose service, one file provider at the mounted folder', () => {
  assert.equal(datasources.apiVersion, 1);
  assert.equal(datasources.datasources.length, 1);
  const [ds] = datasources.datasources;
  assert.equal(ds!.type, 'prometheus');
  assert.equal(ds!.url, 'http://prometheus:9090');
  assert.ok(compose.services['prometheus']!.ports!.some((p) => p.endsWith(':9090')));
  assert.equal(providers.apiVersion, 1);
  assert.equal(providers.providers.length, 1);
  assert.equal(providers.providers[0]!.type, 'file');
  // Grafana reads the provider path inside its container: it must be where compose mounts the JSON.
  const mounts = Object.fromEntries(compose.services['grafana']!.volumes!.map((v) => [v.split(':')[1]!, v.split(':')[0]!]));
  assert.equal(mounts['/etc/grafana/provisioning'], './deploy/compose/grafana/provisioning');
  const hostDir = mounts[providers.providers[0]!.options.path];
  assert.equal(hostDir, './deploy/compose/grafana/dashboards');
  assert.ok(existsSync(`${ROOT}${hostDir!.slice(2)}/convoy.json`));
});

test('dashboard structure: uid, unique panel ids, grid positions inside 24 columns without overlap', () => {
  assert.equal(dashboard.uid, 'convoy-fleet');
  assert.ok(dashboard.schemaVersion >= 36);
  const ids = dashboard.panels.map((p) => p.id);
  assert.equal(new Set(ids).size, ids.length, 'panel ids are unique');
  for (const p of dashboard.panels) {
    const g = p.gridPos;
    assert.ok(Number.isInteger(g.x) && Number.isInteger(g.y) && g.w > 0 && g.h > 0 && g.x >= 0 && g.x + g.w <= 24, `${p.title}: gridPos ${JSON.stringify(g)}`);
  }
  for (const [i, a] of dashboard.panels.entries()) {
    for (const b of dashboard.panels.slice(i + 1)) {
      const overlap = a.gridPos.x < b.gridPos.x + b.gridPos.w && b.gridPos.x < a.gridPos.x + a.gridPos.w && a.gridPos.y < b.gridPos.y + b.gridPos.h && b.gridPos.y < a.gridPos.y + a.gridPos.h;
      assert.equal(overlap, false, `"${a.title}" overlaps "${b.title}"`);
    }
  }
  for (const p of dashboard.panels.filter((panel) => panel.type !== 'row')) {
    const refIds = (p.targets ?? []).map((t) => t.refId);
    assert.ok(refIds.length > 0, `${p.title} has no query`);
    assert.equal(new Set(refIds).size, refIds.length, `${p.title}: refIds unique`);
  }
});

test('every datasource reference resolves to the provisioned uid', () => {
  const uid = datasources.datasources[0]!.uid;
  for (const p of dashboard.panels.filter((panel) => panel.type !== 'row')) assert.deepEqual(p.datasource, { type: 'prometheus', uid }, p.title);
  for (const { panel, target } of targets) assert.deepEqual(target.datasource, { type: 'prometheus', uid }, `${panel.title} ${target.refId}`);
});

test('the code registers the metrics the scan must find (the scan itself works)', () => {
  for (const name of ['convoy_merger_gaps_resolved_total', 'convoy_worker_cache_hit_ratio', 'convoy_splitter_kafka_consumer_lag', 'convoy_merger_release_delay_seconds_bucket', 'convoy_demo_producer_events_total']) {
    assert.ok(names.has(name), name);
  }
  assert.equal(names.has('convoy_watermark_generator_kafka_consumer_lag'), false, 'the generator runs no partition processor');
});

test('every expression parses as PromQL and names only registered metrics', () => {
  assert.ok(targets.length >= 30, `only ${targets.length} queries`);
  const problems = targets.flatMap(({ panel, target }) => exprProblems(target.expr, names).map((problem) => `${panel.title} ${target.refId}: ${problem}`));
  assert.deepEqual(problems, []);
});

test('a typo in a metric name or in the syntax is reported', () => {
  assert.deepEqual(exprProblems('sum(rate(convoy_merger_gapz_resolved_total[1m]))', names), ['unknown metric convoy_merger_gapz_resolved_total']);
  assert.equal(exprProblems('sum(rate(convoy_merger_events_out_total[1m])', names).length, 1);
  assert.deepEqual(exprProblems('sum by (by) (increase(convoy_merger_gaps_resolved_total[5m]))', names), []);
});

test('the dashboard covers what the issue asks, per service', () => {
  const all = targets.map(({ target }) => target.expr).join('\n');
  for (const needle of [
    'convoy_splitter_events_in_total', 'convoy_worker_events_out_total', 'convoy_merger_events_out_total', // throughput
    'convoy_merger_buffer_events', 'convoy_reorder_buffer_buffer_events', // buffer depth
    'convoy_merger_gaps_resolved_total', // marker vs timeout (by label)
    'convoy_merger_late_total', 'convoy_aggregator_late_events_total', 'convoy_splitter_dead_lettered_total', 'convoy_worker_events_dead_lettered_total',
    'convoy_aggregator_watermark_lag_ms', 'convoy_watermark_forwarder_watermark_lag', // watermark lag
    'convoy_worker_kafka_consumer_lag', 'convoy_merger_kafka_consumer_lag', // consumer lag
    'convoy_worker_cache_hit_ratio',
  ]) {
    assert.ok(all.includes(needle), needle);
  }
  assert.match(all, /sum by \(by\) \(increase\(convoy_merger_gaps_resolved_total/);
});
