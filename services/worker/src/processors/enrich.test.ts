import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createCodec } from '@convoy/codecs';
import { ConvoyError } from '@convoy/errors';
import { createLogger } from '@convoy/logging';
import { payloadCodec } from '../payload-codec.ts';
import type { ProcessorContext, WorkerEvent } from '../processor.ts';
import { createEnrichProcessor, createSimulatedProfileStore, parseCustomerIdSource, type ProfileStore } from './enrich.ts';

const codec = payloadCodec(createCodec());
const context = { codec, logger: createLogger({ name: 't', level: 'silent' }), signal: new AbortController().signal } as unknown as ProcessorContext;

function event(key: string | null, payload: unknown, headers: Record<string, string> = {}): WorkerEvent {
  return {
    key: key === null ? null : Buffer.from(key),
    value: Buffer.from(JSON.stringify(payload)),
    headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, Buffer.from(v)])),
    seq: 0, prev: undefined, source: 'in/0', sourcePartition: 0, substream: 0, eventTime: undefined, offset: 0,
  };
}

/** A fake store that counts calls per customer and knows only c1 and c2. */
function fakeStore() {
  const calls: string[] = [];
  const store: ProfileStore = {
    async get(id) {
      calls.push(id);
      return id === 'c1' || id === 'c2' ? { tier: id === 'c1' ? 'gold' : 'silver' } : undefined;
    },
  };
  return { store, calls };
}

describe('enrich processor', () => {
  it('adds the profile and counts hits and misses through the LRU cache', async () => {
    const { store, calls } = fakeStore();
    const lookups: [boolean, number][] = [];
    const enrich = createEnrichProcessor({ store, cacheSize: 2, customerId: { from: 'key' }, onLookup: (hit, s) => lookups.push([hit, s.hitRatio]) });
    const results = [];
    for (const key of ['c1', 'c1', 'c2', 'c1', 'c3', 'c2', 'c1']) results.push(await enrich.process(event(key, { amount: 1 }), context));
    assert.deepEqual(results[0], { value: { amount: 1, profile: { tier: 'gold' } } });
    assert.deepEqual(results[4], { value: { amount: 1, profile: null } }, 'an unknown customer gets profile null');
    // cache of 2: c1 miss, c1 hit, c2 miss, c1 hit, c3 miss (evicts c2), c2 miss (evicts c1), c1 miss
    assert.deepEqual(calls, ['c1', 'c2', 'c3', 'c2', 'c1']);
    assert.deepEqual(enrich.stats(), { hits: 2, misses: 5, size: 2, hitRatio: 2 / 7 });
    assert.deepEqual(lookups.map(([hit]) => hit), [false, true, false, true, false, false, false]);
    assert.equal(lookups[1]?.[1], 0.5);
  });

  it('joins concurrent lookups of one customer into one store call (counted as a hit)', async () => {
    let release: () => void = () => undefined;
    let calls = 0;
    const store: ProfileStore = {
      get: () => {
        calls++;
        return new Promise((resolve) => (release = () => resolve({ tier: 'gold' })));
      },
    };
    const enrich = createEnrichProcessor({ store, cacheSize: 10, customerId: { from: 'key' } });
    const a = enrich.process(event('c1', {}), context);
    const b = enrich.process(event('c1', {}), context);
    await new Promise((r) => setImmediate(r));
    release();
    await Promise.all([a, b]);
    assert.equal(calls, 1);
    assert.deepEqual({ hits: enrich.stats().hits, misses: enrich.stats().misses }, { hits: 1, misses: 1 });
  });

  it('reads the customer ID from a header or a payload field and writes to the configured field', async () => {
    const { store } = fakeStore();
    const byHeader = createEnrichProcessor({ store, cacheSize: 5, customerId: { from: 'header', name: 'x-customer' }, targetField: 'p' });
    assert.deepEqual(await byHeader.process(event(null, { a: 1 }, { 'x-customer': 'c2' }), context), { value: { a: 1, p: { tier: 'silver' } } });
    const byField = createEnrichProcessor({ store, cacheSize: 5, customerId: { from: 'field', path: 'customer.id' } });
    assert.deepEqual(await byField.process(event(null, { customer: { id: 'c1' } }), context), { value: { customer: { id: 'c1' }, profile: { tier: 'gold' } } });
  });

  it('fails non-retriably without a customer ID or an object payload, and keeps a store error retriable', async () => {
    const { store } = fakeStore();
    const enrich = createEnrichProcessor({ store, cacheSize: 5, customerId: { from: 'key' } });
    await assert.rejects(async () => enrich.process(event(null, {}), context), (e: unknown) => e instanceof ConvoyError && e.code === 'WORKER_ENRICH_MISSING_CUSTOMER_ID' && !e.retriable);
    await assert.rejects(async () => enrich.process(event('c1', [1, 2]), context), (e: unknown) => e instanceof ConvoyError && e.code === 'WORKER_ENRICH_NOT_AN_OBJECT');
    const failing = createEnrichProcessor({
      store: { get: async () => Promise.reject(new ConvoyError('STORE_UNAVAILABLE', 'down', { retriable: true })) },
      cacheSize: 5,
      customerId: { from: 'key' },
    });
    await assert.rejects(async () => failing.process(event('c1', {}), context), (e: unknown) => e instanceof ConvoyError && e.code === 'STORE_UNAVAILABLE' && e.retriable);
  });

  it('the simulated store waits its latency through the injected sleep and is deterministic', async () => {
    const sleeps: number[] = [];
    const store = createSimulatedProfileStore({ latencyMs: 7, sleep: async (ms) => void sleeps.push(ms) });
    const a = await store.get('customer-1', new AbortController().signal);
    const b = await store.get('customer-1', new AbortController().signal);
    assert.deepEqual(a, b);
    assert.deepEqual(sleeps, [7, 7]);
    assert.equal(store.calls, 2);
  });

  it('parses the customer ID source', () => {
    assert.deepEqual(parseCustomerIdSource('key'), { from: 'key' });
    assert.deepEqual(parseCustomerIdSource('header:x-id'), { from: 'header', name: 'x-id' });
    assert.deepEqual(parseCustomerIdSource('field:a.b'), { from: 'field', path: 'a.b' });
    assert.equal(parseCustomerIdSource('value'), undefined);
    assert.equal(parseCustomerIdSource('field:'), undefined);
  });
});
