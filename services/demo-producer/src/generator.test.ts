import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mulberry32, OrderGenerator } from './generator.ts';

const NOW = 1_750_000_000_000;

test('mulberry32 is deterministic per seed', () => {
  const a = mulberry32(42);
  const b = mulberry32(42);
  const xs = [a(), a(), a()];
  assert.deepEqual(xs, [b(), b(), b()]);
  assert.notDeepEqual(xs, [mulberry32(43)(), 0, 0].slice(0, 3));
  assert.ok(xs.every((x) => x >= 0 && x < 1));
});

test('the same seed and clock give the same events, with exact values', () => {
  const a = new OrderGenerator({ seed: 7, customers: 100 });
  const b = new OrderGenerator({ seed: 7, customers: 100 });
  const first = a.next(NOW);
  assert.deepEqual(first, b.next(NOW));
  assert.deepEqual(first, {
    kind: 'late',
    key: 'customer-68',
    order: {
      orderId: 'order-7-0',
      customerId: 'customer-68',
      amount: 129.06, // 2 × 24.75 + 3 × 26.52
      currency: 'EUR',
      items: [
        { sku: 'sku-20', quantity: 2, price: 24.75 },
        { sku: 'sku-27', quantity: 3, price: 26.52 },
      ],
      eventTime: NOW - 120_000 - 61,
    },
    timestamp: NOW - 120_000 - 61,
  });
  const second = a.next(NOW + 1);
  assert.equal(second.kind, 'ok');
  assert.equal(second.key, 'customer-10');
  assert.equal(second.timestamp, NOW + 1);
  for (let i = 0; i < 50; i++) assert.deepEqual(b.next(NOW + 1 + i), i === 0 ? second : a.next(NOW + 1 + i));
});

test('malformed records: random bytes without a key, an empty key, JSON without a customer', () => {
  const g = new OrderGenerator({ seed: 7, malformedRatio: 1, outOfOrderRatio: 0, lateRatio: 0 });
  const [bytes, emptyKey, noCustomer] = [g.next(NOW), g.next(NOW), g.next(NOW)];
  assert.deepEqual(bytes, { kind: 'malformed', malformed: 'random-bytes', key: null, raw: Buffer.from('4b884bfa3fe03024274a8cc3', 'hex'), timestamp: NOW });
  assert.equal(emptyKey.malformed, 'empty-key');
  assert.equal(emptyKey.key, '');
  assert.equal(JSON.parse(emptyKey.raw!.toString()).customerId, 'customer-505');
  assert.equal(noCustomer.malformed, 'missing-customer');
  assert.equal(noCustomer.key, null);
  assert.deepEqual(Object.keys(JSON.parse(noCustomer.raw!.toString())), ['orderId', 'amount', 'currency', 'items', 'eventTime']);
  assert.deepEqual(g.counts, { ok: 0, out_of_order: 0, late: 0, malformed: 3 });
});

test('kinds follow their ratios; event times obey the disorder and lateness bounds', () => {
  const g = new OrderGenerator({ seed: 3, customers: 1000, outOfOrderRatio: 0.2, maxDisorderMs: 2_000, lateRatio: 0.05, lateByMs: 120_000, malformedRatio: 0.05 });
  const n = 20_000;
  const customers = new Set<string>();
  for (let i = 0; i < n; i++) {
    const e = g.next(NOW);
    if (e.kind === 'ok') assert.equal(e.timestamp, NOW);
    if (e.kind === 'out_of_order') assert.ok(e.timestamp >= NOW - 2_000 && e.timestamp <= NOW - 1, String(e.timestamp));
    if (e.kind === 'late') assert.ok(e.timestamp <= NOW - 120_000 && e.timestamp > NOW - 121_000, String(e.timestamp));
    if (e.kind === 'malformed') {
      assert.equal(e.order, undefined);
      assert.ok(e.raw instanceof Buffer);
      assert.ok(e.key === null || e.key === '');
      if (e.malformed === 'missing-customer') assert.equal('customerId' in JSON.parse(e.raw.toString()), false);
    } else {
      assert.equal(e.order?.eventTime, e.timestamp);
      const sum = Math.round(e.order!.items.reduce((s, it) => s + it.quantity * it.price * 100, 0)) / 100;
      assert.equal(e.order?.amount, sum);
      customers.add(e.key!);
    }
  }
  const c = g.counts;
  assert.equal(c.ok + c.out_of_order + c.late + c.malformed, n);
  // 20,000 draws: each share within 1.5 points of its ratio
  assert.ok(Math.abs(c.out_of_order / n - 0.2) < 0.015, JSON.stringify(c));
  assert.ok(Math.abs(c.late / n - 0.05) < 0.015, JSON.stringify(c));
  assert.ok(Math.abs(c.malformed / n - 0.05) < 0.015, JSON.stringify(c));
  assert.ok(customers.size > 500, String(customers.size));
  assert.ok([...customers].every((k) => /^customer-([0-9]|[1-9][0-9]{1,2})$/.test(k)));
});

test('zero ratios give only ok events; bad options are refused', () => {
  const g = new OrderGenerator({ seed: 1, outOfOrderRatio: 0, lateRatio: 0, malformedRatio: 0 });
  for (let i = 0; i < 1000; i++) assert.equal(g.next(NOW).kind, 'ok');
  assert.throws(() => new OrderGenerator({ outOfOrderRatio: 0.6, lateRatio: 0.5 }), /at most 1/);
  assert.throws(() => new OrderGenerator({ customers: 0 }), /customers/);
});
