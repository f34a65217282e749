import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createMetrics } from '@convoy/telemetry';
import { parsePrometheusText, sumOf } from './prometheus.ts';

test('parses samples, labels with escapes, special values and timestamps; skips bad lines', () => {
  const e = parsePrometheusText(
    [
      '# HELP x_total Things',
      '# TYPE x_total counter',
      'x_total{a="1",b="q\\"uote\\\\ and \\n"} 3',
      'x_total{a="2",} 4.5e1 1700000000000',
      'up 1',
      'nan_gauge Nan',
      'inf_gauge +Inf',
      'minus_inf -Inf',
      'broken{a="1"',
      'no_value{a="1"}',
      '{a="1"} 3',
      'bad_value abc',
    ].join('\n'),
  );
  assert.deepEqual(e.samples.slice(0, 3), [
    { name: 'x_total', labels: { a: '1', b: 'q"uote\\ and \n' }, value: 3 },
    { name: 'x_total', labels: { a: '2' }, value: 45 },
    { name: 'up', labels: {}, value: 1 },
  ]);
  assert.ok(Number.isNaN(e.samples[3]!.value));
  assert.equal(e.samples[4]!.value, Number.POSITIVE_INFINITY);
  assert.equal(e.samples[5]!.value, Number.NEGATIVE_INFINITY);
  assert.equal(e.samples.length, 6);
  assert.equal(e.skippedLines, 4);
  assert.equal(e.types.get('x_total'), 'counter');
  assert.equal(sumOf(e, 'x_total'), 48);
  assert.equal(sumOf(e, 'x_total', { a: '2' }), 45);
  assert.equal(sumOf(e, 'x_total', { a: '3' }), undefined);
  assert.equal(sumOf(e, 'absent'), undefined);
});

test("reads what our telemetry (prom-client) writes", async () => {
  const metrics = createMetrics({ prefix: 'convoy_merger_', defaultLabels: { service: 'merger' } });
  const gaps = metrics.counter({ name: 'gaps_resolved_total', help: 'Gaps "closed"\nby what', labelNames: ['by'] });
  gaps.inc({ by: 'marker' }, 7);
  gaps.inc({ by: 'timeout' }, 2);
  const buffer = metrics.gauge({ name: 'buffer_events', help: 'Held', labelNames: ['partition'] });
  buffer.set({ partition: '0' }, 5);
  buffer.set({ partition: '1' }, 6);
  metrics.histogram({ name: 'release_delay_seconds', help: 'Delay', buckets: [0.1, 1] }).observe(0.5);
  const e = parsePrometheusText(await metrics.registry.metrics());
  assert.equal(e.skippedLines, 0);
  assert.equal(sumOf(e, 'convoy_merger_gaps_resolved_total', { by: 'marker', service: 'merger' }), 7);
  assert.equal(sumOf(e, 'convoy_merger_buffer_events'), 11);
  assert.equal(sumOf(e, 'convoy_merger_release_delay_seconds_bucket', { le: '+Inf' }), 1);
  assert.equal(sumOf(e, 'convoy_merger_release_delay_seconds_sum'), 0.5);
  assert.equal(e.types.get('convoy_merger_release_delay_seconds'), 'histogram');
});
