/**
 * Wiring: config → HTTP/metrics → Kafka clients → topics → codec → processor → handler → partition
 * processor. Teardown runs in reverse (see the shutdown steps).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { createCodec, registryOptionsFrom } from '@convoy/codecs';
import { ConvoyError, type ConvoyError as ConvoyErrorType } from '@convoy/errors';
import {
  createKafkaClients,
  ensureTopics,
  fetchEndOffsets,
  runPartitionProcessor,
  waitForTopic,
  type ConvoyRecord,
  type PartitionHandler,
  type ProcessorOutput,
  type TopicPartition,
} from '@convoy/kafka';
import { createServiceShell, type ServiceHandle, type ServiceShell, type ShutdownReport } from '@convoy/lifecycle';
import type { Logger } from '@convoy/logging';
import { counterTotals, type RunningHttpServer } from '@convoy/telemetry';
import type { WorkerConfig } from './config.ts';
import { payloadCodec } from './payload-codec.ts';
import type { CacheStats, ProfileStore } from './processors/enrich.ts';
import { loadProcessor } from './processors/index.ts';
import { WorkerHandler, type WorkerCounters } from './worker-handler.ts';

export { loadWorkerConfig, workerSchema, type WorkerConfig } from './config.ts';
export type { Processor, ProcessorContext, ProcessorFactory, ProcessorFactoryContext, ProcessorResult, WorkerEvent } from './processor.ts';
export { droppedByEveryNth } from './processors/filter.ts';

export interface WorkerServiceDeps {
  logger: Logger;
  /** Replaces the simulated profile store of the `enrich` processor. */
  store?: ProfileStore;
  /** Called when a partition stops for good; default: log and stop the service. `main.ts` exits 1. */
  onFatal?: (error: ConvoyErrorType) => void;
}

export interface WorkerService extends Omit<ServiceHandle, 'stop'> {
  readonly counters: () => Readonly<WorkerCounters>;
  readonly cacheStats: (() => CacheStats) | undefined;
  stop(reason?: string): Promise<ShutdownReport>;
}

/** How long a stop lets the batch in flight finish before aborting it (it is then redone after restart). */
const DRAIN_GRACE_MS = 5_000;

const realSleep = (ms: number, signal: AbortSignal): Promise<void> => sleep(ms, undefined, { signal });

export async function startService(config: WorkerConfig, deps: WorkerServiceDeps): Promise<WorkerService> {
  const logger = deps.logger;
  const shell = createServiceShell({ name: 'worker', config, logger, httpLogger: logger.child({ component: 'http' }) });
  shell.health.setReady('started', false, 'wiring');
  return shell.start((http) => wire(config, deps, shell, http));
}

async function wire(config: WorkerConfig, deps: WorkerServiceDeps, shell: ServiceShell, http: RunningHttpServer): Promise<Pick<WorkerService, 'counters' | 'cacheStats' | 'stop'>> {
  const logger = deps.logger;
  const { shutdown, metrics, health } = shell;
  const clients = createKafkaClients(config, { logger, clientId: config.KAFKA_CLIENT_ID });
  shutdown.register('disconnect', () => clients.disconnect());

  // Processed partitions = source partitions: created with WORKER_PROCESSED_PARTITIONS, or read from the existing topic.
  let processedPartitions: number;
  if (config.WORKER_PROCESSED_PARTITIONS !== undefined) {
    const counts = await ensureTopics(clients, [{ topic: config.WORKER_PROCESSED_TOPIC, partitions: config.WORKER_PROCESSED_PARTITIONS }]);
    processedPartitions = counts.get(config.WORKER_PROCESSED_TOPIC) ?? config.WORKER_PROCESSED_PARTITIONS;
  } else {
    const ends = await fetchEndOffsets(clients, config.WORKER_PROCESSED_TOPIC).catch((error: unknown) => {
      throw new ConvoyError('WORKER_PROCESSED_TOPIC_MISSING', `topic ${config.WORKER_PROCESSED_TOPIC} cannot be described; create it or set WORKER_PROCESSED_PARTITIONS`, { cause: error });
    });
    processedPartitions = ends.size;
  }
  await ensureTopics(clients, [{ topic: config.WORKER_DLQ_TOPIC, partitions: 1 }]);
  // The splitter creates the sub-streams topic; workers may start first.
  await waitForTopic(clients, config.WORKER_INPUT_TOPIC, { code: 'WORKER_INPUT_TOPIC_MISSING', hint: 'start the splitter, create it, or set WORKER_INPUT_TOPIC', logger });

  const codec = payloadCodec(
    createCodec(registryOptionsFrom(config)),
  );
  const loaded = await loadProcessor(config, {
    logger,
    metrics,
    codec,
    env: process.env,
    sleep: realSleep,
    ...(deps.store === undefined ? {} : { store: deps.store }),
  });

  const eventsIn = metrics.counter({ name: 'events_in_total', help: 'Data events read from the sub-stream' });
  const eventsOut = metrics.counter({ name: 'events_out_total', help: 'Data records written to the processed topic' });
  const filtered = metrics.counter({ name: 'events_filtered_total', help: 'Events the processor filtered out' });
  const deadLettered = metrics.counter({ name: 'events_dead_lettered_total', help: 'Records written to the dead-letter topic', labelNames: ['code'] });
  const markers = metrics.counter({ name: 'markers_forwarded_total', help: 'Progress markers forwarded in position' });
  const control = metrics.counter({ name: 'control_forwarded_total', help: 'Upstream fillers and watermarks forwarded in position' });
  const fillers = metrics.counter({ name: 'fillers_written_total', help: 'Fillers written for filtered or dead-lettered events' });
  const retries = metrics.counter({ name: 'retries_total', help: 'Processor tries repeated after a retriable error', labelNames: ['code'] });
  const latency = metrics.histogram({
    name: 'processing_seconds',
    help: 'Time from the first try of an event to its outcome, retries included',
    labelNames: ['outcome'],
    buckets: [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
  });

  const abort = new AbortController();
  const handler = new WorkerHandler({
    processor: loaded.processor,
    codec,
    logger: logger.child({ component: 'processor', processor: loaded.name }),
    metrics,
    timers: { now: () => performance.now(), sleep: realSleep },
    processedTopic: config.WORKER_PROCESSED_TOPIC,
    dlqTopic: config.WORKER_DLQ_TOPIC,
    processedPartitions,
    emitFillers: config.WORKER_EMIT_FILLERS,
    maxAttempts: config.WORKER_MAX_ATTEMPTS,
    backoff: { initialMs: config.WORKER_RETRY_BACKOFF_MS, maxMs: config.WORKER_RETRY_BACKOFF_MAX_MS, multiplier: 2 },
    processTimeoutMs: config.WORKER_PROCESS_TIMEOUT_MS,
    concurrency: config.WORKER_CONCURRENCY,
    signal: abort.signal,
    observer: {
      eventDone: (outcome, ms) => latency.observe({ outcome }, ms / 1000),
      retrying: (code, attempt, delayMs, event) => {
        retries.inc({ code });
        logger.warn({ code, attempt, delayMs, seq: event.seq, source: event.source }, 'processor failed, retrying');
      },
      deadLettered: (code, message, record) => {
        deadLettered.inc({ code });
        logger.warn({ code, message, partition: record.partition, offset: record.offset }, 'record dead-lettered');
      },
    },
  });

  const push = counterTotals();
  const syncCounters = () => {
    const now = handler.counters;
    push(eventsIn, now.eventsIn);
    push(eventsOut, now.eventsOut);
    push(filtered, now.filtered);
    push(markers, now.markersForwarded);
    push(control, now.controlForwarded);
    push(fillers, now.fillersWritten);
  };
  const partitionHandler: PartitionHandler = {
    async onRecords(partition: TopicPartition, records: readonly ConvoyRecord[], out: ProcessorOutput) {
      try {
        await handler.onRecords(partition, records, out);
      } finally {
        syncCounters();
      }
    },
  };

  let stopping = false;
  const onFatal =
    deps.onFatal ??
    ((error: ConvoyErrorType) => {
      logger.error({ err: error }, 'worker stopped by a fatal error');
      void shutdown.run('fatal error');
    });
  const processor = await runPartitionProcessor({
    clients,
    groupId: config.WORKER_GROUP_ID,
    topics: [config.WORKER_INPUT_TOPIC],
    transactionalIdPrefix: config.WORKER_GROUP_ID,
    handler: partitionHandler,
    onFatal: (error, partition) => {
      if (stopping) return; // a batch aborted by the stop: redone after restart
      logger.error({ err: error, partition }, 'partition failed');
      onFatal(error);
    },
    tickIntervalMs: 0,
    maxBatchRecords: config.WORKER_MAX_BATCH_RECORDS,
    logger,
    metrics,
    health,
  });
  shutdown.register('stop-processing', async () => {
    stopping = true;
    health.setReady('started', false, 'stopping');
    const grace = setTimeout(() => abort.abort(new ConvoyError('WORKER_STOPPING', 'worker is stopping')), DRAIN_GRACE_MS);
    try {
      await processor.stop();
    } finally {
      clearTimeout(grace);
    }
  });
  health.setReady('started', true);
  logger.info(
    { input: config.WORKER_INPUT_TOPIC, processed: config.WORKER_PROCESSED_TOPIC, processedPartitions, processor: loaded.name, port: http.port },
    'worker started',
  );

  return {
    counters: () => handler.counters,
    cacheStats: loaded.cacheStats,
    stop: (reason = 'stop') => shutdown.run(reason),
  };
}
