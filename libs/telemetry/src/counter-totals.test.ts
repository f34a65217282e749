import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { counterTotals, counterTotalsBy } from './counter-totals.ts';
import { createMetrics } from './metrics.ts';

function fixture() {
  const metrics = createMetrics({ prefix: 'convoy_test_', defaultMetrics: false });
  const eventsOut = metrics.counter({ name: 'events_out_total', help: 'Out' });
  const eventsIn = metrics.counter({ name: 'events_in_total', help: 'In', labelNames: ['kind'] });
  const deadLetters = metrics.counter({ name: 'dead_letters_total', help: 'DLQ' });
  return { metrics, eventsOut, eventsIn, deadLetters };
}

describe('counterTotals', () => {
  it('adds the growth since the previous push, per counter and label values', async () => {
    const { metrics, eventsOut, eventsIn } = fixture();
    const push = counterTotals();
    push(eventsOut, 5);
    push(eventsIn, 2, 'data');
    push(eventsIn, 1, 'filler');
    push(eventsOut, 8);
    push(eventsIn, 2, 'data');
    push(eventsIn, 4, 'filler');
    assert.equal(await metrics.value('events_out_total'), 8);
    assert.equal(await metrics.value('events_in_total', { kind: 'data' }), 2);
    assert.equal(await metrics.value('events_in_total', { kind: 'filler' }), 4);
  });

  it('tracks one total pushed into two counters separately', async () => {
    const { metrics, eventsIn, deadLetters } = fixture();
    const push = counterTotals();
    push(eventsIn, 3, 'invalid');
    push(deadLetters, 3);
    push(eventsIn, 7, 'invalid');
    push(deadLetters, 7);
    assert.equal(await metrics.value('events_in_total', { kind: 'invalid' }), 7);
    assert.equal(await metrics.value('dead_letters_total'), 7);
  });

  it('a total below the last adds nothing and becomes the baseline', async () => {
    const { metrics, eventsOut } = fixture();
    const push = counterTotals();
    push(eventsOut, 10);
    push(eventsOut, 4);
    push(eventsOut, 6);
    assert.equal(await metrics.value('events_out_total'), 12);
  });

  it('byLabel pushes each entry of an object or a Map under its label value', async () => {
    const { metrics, eventsIn } = fixture();
    const push = counterTotals();
    push.byLabel(eventsIn, { data: 2, late: 1 });
    push.byLabel(eventsIn, new Map([['data', 5], ['invalid', 3]]));
    push(eventsIn, 6, 'data');
    assert.equal(await metrics.value('events_in_total', { kind: 'data' }), 6);
    assert.equal(await metrics.value('events_in_total', { kind: 'late' }), 1);
    assert.equal(await metrics.value('events_in_total', { kind: 'invalid' }), 3);
  });

  it('a zero total creates no labelled series', async () => {
    const { metrics, eventsIn } = fixture();
    counterTotals()(eventsIn, 0, 'late');
    assert.equal(await metrics.value('events_in_total', { kind: 'late' }), undefined);
  });
});

describe('counterTotalsBy', () => {
  it('keeps each source apart: a new source starts from zero', async () => {
    const { metrics, eventsOut } = fixture();
    const pushFor = counterTotalsBy<{ id: number }>();
    const first = { id: 1 };
    const second = { id: 2 };
    pushFor(first)(eventsOut, 5);
    pushFor(second)(eventsOut, 3);
    pushFor(first)(eventsOut, 6);
    pushFor(second)(eventsOut, 3);
    assert.equal(pushFor(first), pushFor(first));
    assert.equal(await metrics.value('events_out_total'), 9);
  });
});
