import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { register as globalRegistry } from 'prom-client';
import { createMetrics } from './metrics.ts';

describe('createMetrics', () => {
  it('uses a fresh registry, never the global one', async () => {
    const a = createMetrics();
    const b = createMetrics();
    assert.notEqual(a.registry, globalRegistry);
    assert.notEqual(a.registry, b.registry);
    a.counter({ name: 'only_in_a_total', help: 'x' }).inc();
    assert.equal(b.registry.getSingleMetric('only_in_a_total'), undefined);
    assert.equal(globalRegistry.getSingleMetric('only_in_a_total'), undefined);
  });

  it('registers default Node metrics unprefixed unless turned off', async () => {
    assert.ok(createMetrics({ prefix: 'convoy_' }).registry.getSingleMetric('process_cpu_user_seconds_total'));
    assert.deepEqual(createMetrics({ defaultMetrics: false }).registry.getMetricsAsArray(), []);
  });

  it('prefixes custom metrics and reads their values back', async () => {
    const metrics = createMetrics({ prefix: 'convoy_merger_', defaultLabels: { service: 'merger' }, defaultMetrics: false });
    const events = metrics.counter({ name: 'events_out_total', help: 'Events released', labelNames: ['partition'] });
    events.inc({ partition: '0' }, 2);
    events.inc({ partition: '1' });
    metrics.gauge({ name: 'buffer_depth', help: 'Buffered events' }).set(7);
    const latency = metrics.histogram({ name: 'release_delay_seconds', help: 'Delay', buckets: [0.1, 1] });
    latency.observe(0.5);
    latency.observe(2);
    assert.equal(await metrics.value('events_out_total', { partition: 0 }), 2);
    assert.equal(await metrics.value('events_out_total', { partition: '1' }), 1);
    assert.equal(await metrics.value('events_out_total', { partition: '9' }), undefined);
    assert.equal(await metrics.value('buffer_depth'), 7);
    assert.equal(await metrics.value('release_delay_seconds_count'), 2);
    assert.equal(await metrics.value('release_delay_seconds_sum'), 2.5);
    assert.equal(await metrics.value('missing_total'), undefined);
    assert.match(await metrics.registry.metrics(), /^convoy_merger_buffer_depth\{service="merger"\} 7$/m);
  });

  it('throws when a name is registered twice', () => {
    const metrics = createMetrics({ defaultMetrics: false });
    metrics.counter({ name: 'dup_total', help: 'x' });
    assert.throws(() => metrics.counter({ name: 'dup_total', help: 'x' }), /already been registered/);
  });
});
