/**
 * The built-in `enrich` processor: adds the customer's profile to the JSON payload, looked up
 * through an LRU cache in front of a profile store with real latency. Events of one customer always
 * reach the same worker, so the cache stays hot: that hit rate is what `convoy_worker_cache_hit_ratio`
 * shows.
 */
import { ConvoyError } from '@convoy/errors';
import { LRUCache } from 'lru-cache';
import type { Processor, WorkerEvent } from '../processor.ts';

export type CustomerProfile = Readonly<Record<string, unknown>>;

/** Where profiles live. `get` resolves undefined for an unknown customer; a `retriable` error is retried. */
export interface ProfileStore {
  get(customerId: string, signal: AbortSignal): Promise<CustomerProfile | undefined>;
}

/** Where the customer ID is read: the record key, a header, or a (dotted) payload field. */
export type CustomerIdSource = { readonly from: 'key' } | { readonly from: 'header'; readonly name: string } | { readonly from: 'field'; readonly path: string };

export const CUSTOMER_ID_EXPECTS = 'key, header:<name> or field:<dotted.path>';

/** `key` | `header:<name>` | `field:<path>`; undefined when the text is none of them. */
export function parseCustomerIdSource(text: string): CustomerIdSource | undefined {
  if (text === 'key') return { from: 'key' };
  const match = /^(header|field):(.+)$/.exec(text);
  if (match === null) return undefined;
  return match[1] === 'header' ? { from: 'header', name: match[2] as string } : { from: 'field', path: match[2] as string };
}

/** Hits: served without a store call (a lookup joining one already in flight counts as a hit). */
export interface CacheStats {
  readonly hits: number;
  readonly misses: number;
  readonly size: number;
  /** hits / (hits + misses); 0 before the first lookup. */
  readonly hitRatio: number;
}

export interface EnrichOptions {
  store: ProfileStore;
  cacheSize: number;
  customerId: CustomerIdSource;
  /** Payload field the profile is written to; default `profile`. */
  targetField?: string;
  /** Called after every lookup, e.g. to update metrics. */
  onLookup?(hit: boolean, stats: CacheStats): void;
}

export interface EnrichProcessor {
  readonly process: Processor;
  stats(): CacheStats;
}

interface Cached {
  readonly profile: CustomerProfile | null;
}

function missingId(detail: string): ConvoyError {
  return new ConvoyError('WORKER_ENRICH_MISSING_CUSTOMER_ID', `no customer ID: ${detail}`);
}

/**
 * Payload in: a JSON object. Payload out: the same object plus `[targetField]` = the profile, or
 * null for a customer the store does not know (cached too, so unknown customers cost one lookup).
 * A payload that is not an object, or an event without a customer ID, fails with a non-retriable
 * error (dead-lettered); store errors keep their own `retriable` flag.
 */
export function createEnrichProcessor(options: EnrichOptions): EnrichProcessor {
  if (!Number.isSafeInteger(options.cacheSize) || options.cacheSize < 1) {
    throw new ConvoyError('WORKER_INVALID_OPTION', `cacheSize must be an integer >= 1, got ${String(options.cacheSize)}`);
  }
  const target = options.targetField ?? 'profile';
  let hits = 0;
  let misses = 0;
  const cache = new LRUCache<string, Cached>({
    max: options.cacheSize,
    fetchMethod: async (customerId, _stale, { signal }) => ({ profile: (await options.store.get(customerId, signal)) ?? null }),
  });
  const stats = (): CacheStats => ({ hits, misses, size: cache.size, hitRatio: hits + misses === 0 ? 0 : hits / (hits + misses) });

  const customerIdOf = (event: WorkerEvent, payload: Record<string, unknown>): string => {
    const source = options.customerId;
    if (source.from === 'key') {
      if (event.key === null || event.key.length === 0) throw missingId('the record has no key');
      return event.key.toString('utf8');
    }
    if (source.from === 'header') {
      const value = event.headers[source.name];
      if (value === undefined || value.length === 0) throw missingId(`no header ${source.name}`);
      return value.toString('utf8');
    }
    let current: unknown = payload;
    for (const part of source.path.split('.')) {
      current = typeof current === 'object' && current !== null ? (current as Record<string, unknown>)[part] : undefined;
    }
    if (typeof current === 'string' && current !== '') return current;
    if (typeof current === 'number' && Number.isFinite(current)) return String(current);
    throw missingId(`payload field ${source.path} is not a string or number`);
  };

  const process: Processor = async (event, context) => {
    if (event.value === null) throw new ConvoyError('WORKER_ENRICH_NOT_AN_OBJECT', 'payload is null');
    const payload = await context.codec.decode(event.value);
    if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
      throw new ConvoyError('WORKER_ENRICH_NOT_AN_OBJECT', 'payload is not a JSON object');
    }
    const record = payload as Record<string, unknown>;
    const customerId = customerIdOf(event, record);
    const status: LRUCache.Status<string, Cached> = {};
    const cached = await cache.fetch(customerId, { signal: context.signal, status });
    const hit = status.fetch !== 'miss';
    if (hit) hits++;
    else misses++;
    options.onLookup?.(hit, stats());
    return { value: { ...record, [target]: cached?.profile ?? null } };
  };

  return { process, stats };
}

const GRADES = ['gold', 'silver', 'bronze'] as const;

/**
 * A stand-in for a remote profile store: every customer exists, with a profile derived from the ID
 * alone (so runs are reproducible), after `latencyMs` of waiting through the injected `sleep`.
 */
export function createSimulatedProfileStore(options: { latencyMs: number; sleep: (ms: number, signal: AbortSignal) => Promise<void> }): ProfileStore & { readonly calls: number } {
  let calls = 0;
  return {
    get calls() {
      return calls;
    },
    async get(customerId, signal) {
      calls++;
      if (options.latencyMs > 0) await options.sleep(options.latencyMs, signal);
      let hash = 0;
      for (const char of customerId) hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
      return { customerId, grade: GRADES[hash % GRADES.length], region: `r${hash % 7}` };
    },
  };
}
