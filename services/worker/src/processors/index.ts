/**
 * Resolves `WORKER_PROCESSOR` to a processor: a built-in name, or an ES module whose default export
 * is a `ProcessorFactory`.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConvoyError, errorMessage } from '@convoy/errors';
import type { Logger } from '@convoy/logging';
import type { Metrics } from '@convoy/telemetry';
import type { PayloadCodec, Processor, ProcessorFactory } from '../processor.ts';
import { createEnrichProcessor, createSimulatedProfileStore, parseCustomerIdSource, type CacheStats, type ProfileStore } from './enrich.ts';
import { createFilterProcessor, parseFilterRule } from './filter.ts';
import { identityProcessor } from './identity.ts';

export interface ProcessorSettings {
  readonly WORKER_PROCESSOR: string;
  readonly WORKER_PROCESSOR_OPTIONS: string | undefined;
  readonly WORKER_FILTER: string | undefined;
  readonly WORKER_CACHE_SIZE: number;
  readonly WORKER_STORE_LATENCY_MS: number;
  readonly WORKER_ENRICH_CUSTOMER_ID: string;
  readonly WORKER_ENRICH_FIELD: string;
}

export interface ProcessorDeps {
  readonly logger: Logger;
  readonly metrics: Metrics | undefined;
  readonly codec: PayloadCodec;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Waiting for the simulated store's latency. */
  readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Replaces the simulated profile store of `enrich`. */
  readonly store?: ProfileStore;
}

export interface LoadedProcessor {
  readonly name: string;
  readonly processor: Processor;
  /** Present for `enrich`. */
  readonly cacheStats?: () => CacheStats;
}

export const PROCESSOR_INVALID = 'WORKER_PROCESSOR_INVALID';

/** Registers the cache metrics and keeps them current after every lookup. */
function cacheMetrics(metrics: Metrics | undefined): ((hit: boolean, stats: CacheStats) => void) | undefined {
  if (metrics === undefined) return undefined;
  const hits = metrics.counter({ name: 'cache_hits_total', help: 'Profile lookups served by the LRU cache' });
  const misses = metrics.counter({ name: 'cache_misses_total', help: 'Profile lookups that went to the profile store' });
  const ratio = metrics.gauge({ name: 'cache_hit_ratio', help: 'Cache hits / lookups since start' });
  const size = metrics.gauge({ name: 'cache_entries', help: 'Profiles held in the LRU cache' });
  return (hit, stats) => {
    (hit ? hits : misses).inc();
    ratio.set(stats.hitRatio);
    size.set(stats.size);
  };
}

/** Builds the configured processor once at start; a bad module fails with `WORKER_PROCESSOR_INVALID`. */
export async function loadProcessor(settings: ProcessorSettings, deps: ProcessorDeps): Promise<LoadedProcessor> {
  const name = settings.WORKER_PROCESSOR;
  const logger = deps.logger.child({ component: 'processor', processor: name });
  switch (name) {
    case 'identity':
      return { name, processor: identityProcessor };
    case 'filter': {
      if (settings.WORKER_FILTER === undefined) throw new ConvoyError(PROCESSOR_INVALID, 'the filter processor needs WORKER_FILTER');
      return { name, processor: createFilterProcessor(parseFilterRule(settings.WORKER_FILTER)) };
    }
    case 'enrich': {
      const customerId = parseCustomerIdSource(settings.WORKER_ENRICH_CUSTOMER_ID);
      if (customerId === undefined) throw new ConvoyError(PROCESSOR_INVALID, `bad WORKER_ENRICH_CUSTOMER_ID ${settings.WORKER_ENRICH_CUSTOMER_ID}`);
      const store = deps.store ?? createSimulatedProfileStore({ latencyMs: settings.WORKER_STORE_LATENCY_MS, sleep: deps.sleep });
      const onLookup = cacheMetrics(deps.metrics);
      const enrich = createEnrichProcessor({
        store,
        cacheSize: settings.WORKER_CACHE_SIZE,
        customerId,
        targetField: settings.WORKER_ENRICH_FIELD,
        ...(onLookup === undefined ? {} : { onLookup }),
      });
      return { name, processor: enrich.process, cacheStats: enrich.stats };
    }
    default:
      return { name, processor: await loadModule(name, settings.WORKER_PROCESSOR_OPTIONS, { ...deps, logger }) };
  }
}

function moduleUrl(spec: string): string {
  return /^[a-z][a-z0-9+.-]+:/i.test(spec) ? spec : pathToFileURL(resolve(spec)).href;
}

async function loadModule(spec: string, optionsText: string | undefined, deps: ProcessorDeps): Promise<Processor> {
  const url = moduleUrl(spec);
  let factory: unknown;
  try {
    factory = ((await import(url)) as { default?: unknown }).default;
  } catch (error) {
    throw new ConvoyError(PROCESSOR_INVALID, `cannot load processor module ${spec}: ${errorMessage(error)}`, { cause: error });
  }
  if (typeof factory !== 'function') {
    throw new ConvoyError(PROCESSOR_INVALID, `processor module ${spec} must default-export a factory (context) => processor`);
  }
  const options = optionsText === undefined ? {} : (JSON.parse(optionsText) as Record<string, unknown>);
  const processor = await (factory as ProcessorFactory)({ options, env: deps.env, logger: deps.logger, metrics: deps.metrics, codec: deps.codec });
  if (typeof processor !== 'function') {
    throw new ConvoyError(PROCESSOR_INVALID, `the factory of ${spec} must return a function (event, context) => result | result[] | null`);
  }
  return processor;
}
