import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createMetrics } from '@convoy/telemetry';
import { parsePrometheusText } from './prometheus.ts';
import { FLEET_TARGETS, formatStatus, parseTargets, resolveTargets, scrape, summarize } from './status.ts';

test('targets: name=url lists, defaults plus CONVOY_STATUS_TARGETS, --targets replaces', () => {
  assert.deepEqual(parseTargets('a=127.0.0.1:1, b=https://h:2/metrics'), [
    { name: 'a', url: 'http://127.0.0.1:1' },
    { name: 'b', url: 'https://h:2' },
  ]);
  assert.throws(() => parseTargets('a'), /"a" is not name=url/);
  assert.deepEqual(resolveTargets('x=h:1', 'y=h:2'), [{ name: 'x', url: 'http://h:1' }]);
  const merged = resolveTargets(undefined, 'merger=h:9,demo=h:3');
  assert.deepEqual(merged.map((t) => `${t.name}=${t.url}`), [
    'splitter=http://127.0.0.1:9500',
    'worker-0=http://127.0.0.1:9510',
    'worker-1=http://127.0.0.1:9511',
    'worker-2=http://127.0.0.1:9512',
    'worker-3=http://127.0.0.1:9513',
    'merger=http://h:9',
    'demo=http://h:3',
  ]);
  assert.equal(FLEET_TARGETS.length, 6);
});

async function exposition(prefix: string, service: string, fill: (m: ReturnType<typeof createMetrics>) => void) {
  const metrics = createMetrics({ prefix, defaultLabels: { service } });
  fill(metrics);
  return parsePrometheusText(await metrics.registry.metrics());
}

test('summarize picks each service’s own series; formatStatus prints the table', async () => {
  const merger = await exposition('convoy_merger_', 'merger', (m) => {
    const eventsIn = m.counter({ name: 'events_in_total', help: 'h', labelNames: ['kind'] });
    eventsIn.inc({ kind: 'data' }, 90);
    eventsIn.inc({ kind: 'progress' }, 40);
    m.counter({ name: 'events_out_total', help: 'h' }).inc(88);
    const gaps = m.counter({ name: 'gaps_resolved_total', help: 'h', labelNames: ['by'] });
    gaps.inc({ by: 'marker' }, 3);
    // no timeout gap: prom-client writes no by="timeout" sample, the table shows 0
    m.counter({ name: 'late_total', help: 'h', labelNames: ['policy'] }).inc({ policy: 'route-late' }, 1);
    m.counter({ name: 'dead_letters_total', help: 'h' });
    m.gauge({ name: 'buffer_events', help: 'h', labelNames: ['partition'] }).set({ partition: '0' }, 2);
    m.gauge({ name: 'kafka_consumer_lag', help: 'h', labelNames: ['topic', 'partition'] }).set({ topic: 't', partition: '0' }, 12);
  });
  const demo = await exposition('convoy_demo_producer_', 'demo-producer', (m) => {
    const events = m.counter({ name: 'events_total', help: 'h', labelNames: ['kind'] });
    events.inc({ kind: 'ok' }, 100);
    events.inc({ kind: 'late' }, 2);
    events.inc({ kind: 'malformed' }, 1);
  });
  const splitter = await exposition('convoy_splitter_', 'splitter', (m) => {
    m.counter({ name: 'events_in_total', help: 'h' }).inc(130);
    m.counter({ name: 'dead_lettered_total', help: 'h', labelNames: ['code'] });
  });
  assert.deepEqual(summarize('splitter', splitter, true), { name: 'splitter', up: true, ready: true, service: 'splitter', eventsIn: 130, dlq: 0 });
  const rows = [summarize('merger', merger, true), summarize('demo', demo, false), { name: 'worker-3', up: false, ready: undefined }];
  assert.deepEqual(rows[0], { name: 'merger', up: true, ready: true, service: 'merger', eventsIn: 90, eventsOut: 88, buffer: 2, gapsByMarker: 3, gapsByTimeout: 0, late: 1, dlq: 0, lag: 12 });
  assert.deepEqual(rows[1], { name: 'demo', up: true, ready: false, service: 'demo-producer', eventsOut: 103, late: 2, dlq: 1 });
  assert.equal(
    formatStatus(rows),
    [
      'service     up  ready  in  out  buffer  gaps m/t  late  dlq  lag',
      'merger      up    yes  90   88       2       3/0     1    0   12',
      'demo        up     NO   -  103       -         -     2    1    -',
      'worker-3  DOWN      -   -    -       -         -     -    -    -',
    ].join('\n'),
  );
});

test('scrape: an unreachable or failing target is down, not an error', async () => {
  const failing = (async () => new Response('nope', { status: 500 })) as typeof fetch;
  assert.deepEqual(await scrape({ name: 'x', url: 'http://h:1' }, failing), { name: 'x', up: false, ready: undefined });
  const refused = (async () => {
    throw new TypeError('fetch failed');
  }) as typeof fetch;
  assert.deepEqual(await scrape({ name: 'x', url: 'http://h:1' }, refused), { name: 'x', up: false, ready: undefined });
});
