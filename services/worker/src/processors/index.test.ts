import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, describe, it } from 'node:test';
import { createCodec } from '@convoy/codecs';
import { ConvoyError } from '@convoy/errors';
import { createLogger } from '@convoy/logging';
import { createMetrics } from '@convoy/telemetry';
import { payloadCodec } from '../payload-codec.ts';
import type { ProcessorContext, WorkerEvent } from '../processor.ts';
import { loadProcessor, type ProcessorSettings } from './index.ts';

const dir = mkdtempSync(join(tmpdir(), 'worker-processor-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const codec = payloadCodec(createCodec());
const logger = createLogger({ name: 't', level: 'silent' });
const settings: ProcessorSettings = {
  WORKER_PROCESSOR: 'identity',
  WORKER_PROCESSOR_OPTIONS: undefined,
  WORKER_FILTER: undefined,
  WORKER_CACHE_SIZE: 10,
  WORKER_STORE_LATENCY_MS: 0,
  WORKER_ENRICH_CUSTOMER_ID: 'key',
  WORKER_ENRICH_FIELD: 'profile',
};
const deps = { logger, metrics: undefined, codec, env: {}, sleep: async () => undefined };
const context = { codec, logger, signal: new AbortController().signal } as unknown as ProcessorContext;
const event: WorkerEvent = { key: Buffer.from('c1'), value: Buffer.from('{"amount":5}'), headers: {}, seq: 3, prev: 2, source: 'in/0', sourcePartition: 0, substream: 1, eventTime: undefined, offset: 0 };

describe('loadProcessor', () => {
  it('loads a module by path: the default export gets the parsed options', async () => {
    const file = join(dir, 'double.mjs');
    writeFileSync(file, 'export default ({ options }) => (event) => ({ value: { seq: event.seq * options.factor } });\n');
    const loaded = await loadProcessor({ ...settings, WORKER_PROCESSOR: file, WORKER_PROCESSOR_OPTIONS: '{"factor":2}' }, deps);
    assert.deepEqual(await loaded.processor(event, context), { value: { seq: 6 } });
    const byUrl = await loadProcessor({ ...settings, WORKER_PROCESSOR: pathToFileURL(file).href, WORKER_PROCESSOR_OPTIONS: '{"factor":3}' }, deps);
    assert.deepEqual(await byUrl.processor(event, context), { value: { seq: 9 } });
  });

  it('refuses a module that is missing, has no factory, or whose factory returns no function', async () => {
    const noDefault = join(dir, 'none.mjs');
    writeFileSync(noDefault, 'export const x = 1;\n');
    const notFn = join(dir, 'notfn.mjs');
    writeFileSync(notFn, 'export default () => 42;\n');
    for (const [spec, message] of [[join(dir, 'missing.mjs'), /cannot load/], [noDefault, /default-export a factory/], [notFn, /must return a function/]] as const) {
      await assert.rejects(loadProcessor({ ...settings, WORKER_PROCESSOR: spec }, deps), (e: unknown) => e instanceof ConvoyError && e.code === 'WORKER_PROCESSOR_INVALID' && message.test(e.message));
    }
  });

  it('builds the built-ins; enrich registers the cache metrics', async () => {
    assert.deepEqual(await (await loadProcessor(settings, deps)).processor(event, context), { value: event.value });
    const filter = await loadProcessor({ ...settings, WORKER_PROCESSOR: 'filter', WORKER_FILTER: '{"field":"amount","gte":10}' }, deps);
    assert.equal(await filter.processor(event, context), null);
    const metrics = createMetrics({ prefix: 'convoy_worker_', defaultMetrics: false });
    const enrich = await loadProcessor({ ...settings, WORKER_PROCESSOR: 'enrich' }, { ...deps, metrics });
    await enrich.processor(event, context);
    await enrich.processor(event, context);
    assert.deepEqual(enrich.cacheStats?.(), { hits: 1, misses: 1, size: 1, hitRatio: 0.5 });
    assert.equal(await metrics.value('cache_hit_ratio'), 0.5);
    assert.equal(await metrics.value('cache_hits_total'), 1);
    assert.equal(await metrics.value('cache_misses_total'), 1);
  });
});
