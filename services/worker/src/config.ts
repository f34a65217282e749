import { bool, connectionFields, duration, int, loadConfig, str } from '@convoy/config';
import { errorMessage } from '@convoy/errors';
import { CUSTOMER_ID_EXPECTS, parseCustomerIdSource } from './processors/enrich.ts';
import { FILTER_SPEC_EXPECTS, parseFilterRule } from './processors/filter.ts';

export const BUILT_IN_PROCESSORS = ['identity', 'enrich', 'filter'] as const;

function jsonObjectProblem(name: string, text: string): string | undefined {
  try {
    const value = JSON.parse(text) as unknown;
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return undefined;
  } catch {
    // reported below
  }
  return `${name}=${JSON.stringify(text)} is not valid: expected a JSON object such as {"threshold":5}`;
}

export const workerSchema = {
  ...connectionFields,
  KAFKA_CLIENT_ID: str().default('convoy-worker'),
  WORKER_INPUT_TOPIC: str().default('convoy.substreams'),
  WORKER_GROUP_ID: str().default('convoy-worker'),
  WORKER_PROCESSED_TOPIC: str().default('convoy.processed'),
  WORKER_DLQ_TOPIC: str().default('convoy.dlq'),
  /** Partition count to ensure on the processed topic (= input partition count P); unset: the topic must exist. */
  WORKER_PROCESSED_PARTITIONS: int({ min: 1 }).optional(),
  WORKER_PROCESSOR: str()
    .describe(`a built-in processor (identity, enrich, filter) or a path or file: URL of an ES module`)
    .default('identity')
    .check((name, config) =>
      name === 'filter' && config.WORKER_FILTER === undefined ? 'WORKER_PROCESSOR=filter needs WORKER_FILTER to be set' : undefined,
    ),
  WORKER_PROCESSOR_OPTIONS: str()
    .describe('a JSON object, handed to a processor module factory as `options`')
    .optional()
    .check((text) => jsonObjectProblem('WORKER_PROCESSOR_OPTIONS', text)),
  WORKER_FILTER: str()
    .describe(FILTER_SPEC_EXPECTS)
    .optional()
    .check((text) => {
      try {
        parseFilterRule(text);
        return undefined;
      } catch (error) {
        return `WORKER_FILTER=${JSON.stringify(text)} is not valid: ${errorMessage(error)}; expected ${FILTER_SPEC_EXPECTS}`;
      }
    }),
  WORKER_EMIT_FILLERS: bool().default(false),
  WORKER_MAX_ATTEMPTS: int({ min: 1, max: 100 }).default(3),
  WORKER_RETRY_BACKOFF_MS: duration({ min: 0 }).default(100),
  WORKER_RETRY_BACKOFF_MAX_MS: duration({ min: 0 }).default(5_000),
  WORKER_PROCESS_TIMEOUT_MS: duration({ min: 1 }).default(30_000),
  /** Records per transaction (a fetched batch is split into units of at most this many). */
  WORKER_MAX_BATCH_RECORDS: int({ min: 1, max: 100_000 }).default(5_000),
  WORKER_CONCURRENCY: int({ min: 1, max: 1_000 }).default(1),
  WORKER_CACHE_SIZE: int({ min: 1 }).default(10_000),
  WORKER_STORE_LATENCY_MS: duration({ min: 0 }).default(5),
  WORKER_ENRICH_CUSTOMER_ID: str()
    .describe(CUSTOMER_ID_EXPECTS)
    .default('key')
    .check((text) =>
      parseCustomerIdSource(text) === undefined
        ? `WORKER_ENRICH_CUSTOMER_ID=${JSON.stringify(text)} is not valid: expected ${CUSTOMER_ID_EXPECTS}`
        : undefined,
    ),
  WORKER_ENRICH_FIELD: str().default('profile'),
};

export type WorkerConfig = ReturnType<typeof loadWorkerConfig>;

/** Parses the environment once; throws `CONFIG_INVALID` naming every bad variable. */
export const loadWorkerConfig = (env: Readonly<Record<string, string | undefined>> = process.env) => loadConfig(workerSchema, env);
