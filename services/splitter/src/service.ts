import { setTimeout as sleep } from 'node:timers/promises';
import { createCodec, registryOptionsFrom, type Codec } from '@convoy/codecs';
import { ConvoyError, isRetriable } from '@convoy/errors';
import {
  createKafkaClients,
  ensureTopics,
  fetchCommittedOffsets,
  fetchMaxMessageBytes,
  readPartitionTail,
  runPartitionProcessor,
  waitForTopic,
  type ConvoyRecord,
  type KafkaClients,
  type PartitionProcessor,
  type ProcessorOutput,
  type TopicPartition,
} from '@convoy/kafka';
import { createServiceShell, type ServiceHandle } from '@convoy/lifecycle';
import type { Logger } from '@convoy/logging';
import { counterTotals, type Metrics } from '@convoy/telemetry';
import { stateTopicOf, type SplitterConfig } from './config.ts';
import { latestState, type RoutingState } from './routing-state.ts';
import { describeSource } from './sources.ts';
import { createCounters, SplitterHandler, type PayloadDecoder, type SplitterCounters, type SplitterOptions } from './splitter-handler.ts';

export const SPLITTER_SUBSTREAMS_MISMATCH = 'SPLITTER_SUBSTREAMS_MISMATCH';
export const SPLITTER_INPUT_TOPIC_MISSING = 'SPLITTER_INPUT_TOPIC_MISSING';
export const SPLITTER_MAX_RECORD_BYTES_TOO_LARGE = 'SPLITTER_MAX_RECORD_BYTES_TOO_LARGE';

/** Left below the output topics' `max.message.bytes` when SPLITTER_MAX_RECORD_BYTES is unset: room for the headers later stages add. */
export const NEXT_HOP_HEADROOM_BYTES = 1024;

export interface SplitterServiceDeps {
  logger: Logger;
  /** Clock for `now`; default `Date.now`. */
  now?: () => number;
  /** A partition stopped for good (its unit was not committed): main.ts exits so a restart recovers. */
  onFatal?: (error: ConvoyError) => void;
}

export interface SplitterService extends ServiceHandle {
  readonly counters: SplitterCounters;
}

/** `maxRecordBytes`: the record limit in force (SPLITTER_MAX_RECORD_BYTES, or derived from the output topics at start). */
export function splitterOptions(config: SplitterConfig, decode: PayloadDecoder, maxRecordBytes?: number): SplitterOptions {
  const bounds = {
    ...(config.SPLITTER_EVENT_TIME_MIN === undefined ? {} : { min: config.SPLITTER_EVENT_TIME_MIN }),
    ...(config.SPLITTER_EVENT_TIME_MAX_FUTURE_MS === 0 ? {} : { maxFutureMs: config.SPLITTER_EVENT_TIME_MAX_FUTURE_MS }),
    ...(config.SPLITTER_EVENT_TIME_MAX_PAST_MS === 0 ? {} : { maxPastMs: config.SPLITTER_EVENT_TIME_MAX_PAST_MS }),
  };
  const limit = maxRecordBytes ?? config.SPLITTER_MAX_RECORD_BYTES;
  return {
    convoyHeadersOnInput: config.SPLITTER_CONVOY_HEADERS_ON_INPUT,
    nullValues: config.SPLITTER_NULL_VALUES,
    eventTimeBounds: bounds,
    ...(limit === undefined ? {} : { maxRecordBytes: limit }),
    mode: config.SPLITTER_MODE,
    substreamsTopic: config.SPLITTER_SUBSTREAMS_TOPIC,
    substreams: config.SPLITTER_SUBSTREAMS,
    epoch: config.SPLITTER_EPOCH,
    ...(config.SPLITTER_MODE === 'classify' ? {} : { stateTopic: stateTopicOf(config) }),
    dlqTopic: config.SPLITTER_DLQ_TOPIC,
    keySource: config.SPLITTER_KEY_SOURCE,
    eventTimeSource: config.SPLITTER_EVENT_TIME_SOURCE,
    maxValueBytes: config.SPLITTER_MAX_VALUE_BYTES,
    markerIntervalMs: config.SPLITTER_MARKER_INTERVAL_MS,
    markerEveryEvents: config.SPLITTER_MARKER_EVERY_EVENTS,
    markerIdleIntervalMs: config.SPLITTER_MARKER_IDLE_INTERVAL_MS,
    ruleSet: config.SPLITTER_RULES,
    defaultTopic: config.SPLITTER_DEFAULT_TOPIC,
    decode,
  };
}

/**
 * The codec's decode, with its own retries for a registry that is briefly unreachable: the
 * processor never re-invokes a handler with the same records, so a retriable failure is retried
 * here (doubling from 200 ms, 6 attempts) before it stops the partition.
 */
function retryingDecoder(codec: Codec, logger: Logger): PayloadDecoder {
  return async (value) => {
    for (let attempt = 1; ; attempt++) {
      try {
        return (await codec.decode(value)).value;
      } catch (error) {
        if (!isRetriable(error) || attempt >= 6) throw error;
        logger.warn({ err: error, attempt }, 'payload decode failed, retrying');
        await sleep(200 * 2 ** (attempt - 1));
      }
    }
  };
}

function splitterMetrics(metrics: Metrics) {
  return {
    eventsIn: metrics.counter({ name: 'events_in_total', help: 'Input records handled (each leaves as one data record or one dead letter)' }),
    eventsOut: metrics.counter({ name: 'events_out_total', help: 'Data records written, by destination topic', labelNames: ['topic'] }),
    markers: metrics.counter({ name: 'markers_written_total', help: 'Progress markers written (one per sub-stream partition per emission)' }),
    deadLettered: metrics.counter({ name: 'dead_lettered_total', help: 'Input records sent to the dead-letter topic, by error code', labelNames: ['code'] }),
    trimmed: metrics.counter({ name: 'dead_letters_trimmed_total', help: 'Dead letters written without their value (and maybe key and headers) to fit the record limit' }),
    stripped: metrics.counter({ name: 'stripped_headers_total', help: 'Incoming convoy-* headers removed (input headers are never trusted)' }),
    closingMarkers: metrics.counter({ name: 'closing_markers_written_total', help: 'Of markers_written_total: closing markers of a replaced routing epoch' }),
    epochSwitches: metrics.counter({ name: 'epoch_switches_total', help: 'Routing epochs started because the sub-stream count changed' }),
    stateRecords: metrics.counter({ name: 'state_records_written_total', help: 'Routing state records written to the state topic' }),
    eventTimeFallbacks: metrics.counter({ name: 'event_time_fallbacks_total', help: 'Records whose configured event-time source was unreadable; stamped with the record timestamp' }),
    latency: metrics.histogram({
      name: 'processing_latency_seconds',
      help: 'Time from an input record timestamp to its split (in the transaction being built)',
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    }),
  };
}

/** Pushes the growth of the handler's counters since the last call into the Prometheus series. */
function counterSync(m: ReturnType<typeof splitterMetrics>, counters: SplitterCounters) {
  const push = counterTotals();
  return (): void => {
    push(m.eventsIn, counters.eventsIn);
    push(m.markers, counters.markersWritten);
    push(m.closingMarkers, counters.closingMarkersWritten);
    push(m.epochSwitches, counters.epochSwitches);
    push(m.stateRecords, counters.stateRecordsWritten);
    push(m.stripped, counters.strippedHeaders);
    push(m.trimmed, counters.deadLettersTrimmed);
    push(m.eventTimeFallbacks, counters.eventTimeFallbacks);
    push.byLabel(m.eventsOut, counters.eventsOut);
    push.byLabel(m.deadLettered, counters.deadLettered);
  };
}

/**
 * The record limit that keeps every record the splitter writes acceptable to the topics it writes:
 * SPLITTER_MAX_RECORD_BYTES when set (refused when a topic would reject records of that size), else
 * the smallest effective `max.message.bytes` among them minus `NEXT_HOP_HEADROOM_BYTES`.
 */
async function recordLimit(clients: KafkaClients, config: SplitterConfig, outputs: readonly string[], logger: Logger): Promise<number> {
  const limits = await fetchMaxMessageBytes(clients, outputs).catch((error: unknown) => {
    logger.warn({ err: error }, 'describing the output topics failed');
    return new Map<string, number>();
  });
  let smallest: { topic: string; bytes: number } | undefined;
  for (const [topic, bytes] of limits) if (smallest === undefined || bytes < smallest.bytes) smallest = { topic, bytes };
  const configured = config.SPLITTER_MAX_RECORD_BYTES;
  if (smallest === undefined) {
    // Not readable (e.g. no DescribeConfigs permission): the configured limit, else the broker default.
    const fallback = configured ?? 1048588 - NEXT_HOP_HEADROOM_BYTES;
    logger.warn({ maxRecordBytes: fallback }, 'max.message.bytes of the output topics is unreadable; using SPLITTER_MAX_RECORD_BYTES or the broker default');
    return fallback;
  }
  if (configured !== undefined && configured > smallest.bytes) {
    throw new ConvoyError(
      SPLITTER_MAX_RECORD_BYTES_TOO_LARGE,
      `SPLITTER_MAX_RECORD_BYTES=${configured} exceeds max.message.bytes=${smallest.bytes} of topic ${smallest.topic}: records that large would be refused and stop the partition; lower it or raise the topic's max.message.bytes`,
      { context: { configured, topic: smallest.topic, maxMessageBytes: smallest.bytes } },
    );
  }
  const limit = configured ?? smallest.bytes - NEXT_HOP_HEADROOM_BYTES;
  logger.info({ maxRecordBytes: limit, limitedBy: smallest.topic, maxMessageBytes: smallest.bytes }, 'record limit');
  return limit;
}

/**
 * Starts the splitter: HTTP (metrics, health) → Kafka clients → topics (sub-streams with at least
 * N partitions, the compacted routing-state topic, dead letters, classification topics) → partition processor running a
 * `SplitterHandler`. Each unit of work (batch or tick) of a source partition commits its data
 * records, dead letters, markers and input offset in one transaction (transactional id per input
 * partition), so a `kill -9` neither loses nor duplicates anything under read_committed.
 */
export async function startService(config: SplitterConfig, deps: SplitterServiceDeps): Promise<SplitterService> {
  const logger = deps.logger;
  const now = deps.now ?? Date.now;
  const shell = createServiceShell({ name: 'splitter', config, logger });
  const { shutdown, metrics, health } = shell;
  const m = splitterMetrics(metrics);
  const counters = createCounters();
  const sync = counterSync(m, counters);
  health.setReady('topics', false, 'not checked yet');

  return shell.start(async () => {
    const clients = createKafkaClients(config, { logger, clientId: config.KAFKA_CLIENT_ID });
    shutdown.register('disconnect', () => clients.disconnect());

    const input = config.SPLITTER_INPUT_TOPIC;
    const mode = config.SPLITTER_MODE;
    const stateTopic = stateTopicOf(config);
    const topics: { topic: string; partitions: number; configs?: Record<string, string> }[] = [{ topic: config.SPLITTER_DLQ_TOPIC, partitions: 1 }];
    if (mode !== 'classify') {
      topics.push({ topic: config.SPLITTER_SUBSTREAMS_TOPIC, partitions: config.SPLITTER_SUBSTREAMS });
      // Partition p holds source p's routing state; compaction keeps the latest per source.
      const inputPartitions = await waitForTopic(clients, input, { code: SPLITTER_INPUT_TOPIC_MISSING, hint: 'create it or set SPLITTER_INPUT_TOPIC', logger });
      topics.push({ topic: stateTopic, partitions: inputPartitions, configs: { 'cleanup.policy': 'compact' } });
    } else {
      const named = new Set([...config.SPLITTER_RULES.rules.map((rule) => rule.topic), config.SPLITTER_DEFAULT_TOPIC]);
      for (const topic of named) topics.push({ topic, partitions: config.SPLITTER_CLASSIFY_TOPIC_PARTITIONS });
    }
    const counts = await ensureTopics(clients, topics);
    const actual = counts.get(config.SPLITTER_SUBSTREAMS_TOPIC);
    if (mode !== 'classify' && (actual === undefined || actual < config.SPLITTER_SUBSTREAMS)) {
      // Partitions beyond N are allowed: after a scale-down they only drain the old epoch.
      throw new ConvoyError(
        SPLITTER_SUBSTREAMS_MISMATCH,
        `topic ${config.SPLITTER_SUBSTREAMS_TOPIC} has ${actual} partitions but SPLITTER_SUBSTREAMS=${config.SPLITTER_SUBSTREAMS}: add partitions first (kafka-topics --alter --partitions ${config.SPLITTER_SUBSTREAMS})`,
        { context: { topic: config.SPLITTER_SUBSTREAMS_TOPIC, actual, configured: config.SPLITTER_SUBSTREAMS } },
      );
    }
    const maxRecordBytes = await recordLimit(clients, config, topics.map((t) => t.topic).filter((t) => t !== stateTopic), logger);
    health.setReady('topics', true, `${input} → ${topics.map((t) => t.topic).join(', ')}`);

    const codec = createCodec({
      ...registryOptionsFrom(config),
      maxValueBytes: config.SPLITTER_MAX_VALUE_BYTES,
    });
    const committedOffset = async (tp: TopicPartition): Promise<number | undefined> => {
      const offsets = await fetchCommittedOffsets(clients, config.SPLITTER_GROUP_ID, tp.topic);
      return offsets.get(tp.partition) ?? undefined;
    };
    const routingState = async (tp: TopicPartition): Promise<RoutingState | undefined> => {
      const source = { topic: tp.topic, partition: tp.partition };
      const records = await readPartitionTail(clients, {
        topic: stateTopic,
        partition: tp.partition,
        window: 64,
        enough: (window) => latestState(window, source) !== undefined,
      });
      return latestState(records, source);
    };
    const core = new SplitterHandler(splitterOptions(config, retryingDecoder(codec, logger), maxRecordBytes), committedOffset, counters, routingState);

    const processor: PartitionProcessor = await runPartitionProcessor({
      clients,
      groupId: config.SPLITTER_GROUP_ID,
      topics: [input],
      transactionalIdPrefix: config.SPLITTER_TRANSACTIONAL_ID_PREFIX,
      handler: {
        async onAssigned(tp) {
          await core.onAssigned(tp);
          const splitter = core.partition(tp);
          logger.info({ partition: `${tp.topic}/${tp.partition}`, lastSeq: splitter?.lastSeq, routing: mode === 'classify' ? undefined : splitter?.routing }, 'partition assigned');
        },
        async onRecords(tp, records: readonly ConvoyRecord[], out: ProcessorOutput, at) {
          await core.onRecords(tp, records, out, at);
          for (const record of records) m.latency.observe(Math.max(0, at - record.timestamp) / 1000);
          sync();
        },
        onTick(tp, out, at) {
          core.onTick(tp, out, at);
          sync();
        },
        onRevoked(tp) {
          core.onRevoked(tp);
        },
      },
      commitMode: 'batch-end',
      // Ticks at the marker interval: markers of a moved seq are at most one interval late.
      tickIntervalMs: config.SPLITTER_MARKER_INTERVAL_MS,
      maxBatchRecords: config.SPLITTER_MAX_BATCH_RECORDS,
      onFatal: (error, tp) => {
        logger.error({ err: error, partition: tp === undefined ? undefined : `${tp.topic}/${tp.partition}` }, 'splitter partition failed');
        deps.onFatal?.(error);
      },
      logger,
      metrics,
      health,
      clock: now,
    });
    // Last registered, first to run: stop fetching and finish the transaction in flight.
    shutdown.register('stop-processor', () => processor.stop());
    logger.info(
      {
        input,
        mode,
        substreams: mode !== 'classify' ? `${config.SPLITTER_SUBSTREAMS_TOPIC} × ${config.SPLITTER_SUBSTREAMS}` : undefined,
        rules: mode === 'classify' ? config.SPLITTER_RULES.name : undefined,
        keySource: describeSource(config.SPLITTER_KEY_SOURCE),
        eventTimeSource: describeSource(config.SPLITTER_EVENT_TIME_SOURCE),
        epoch: config.SPLITTER_EPOCH,
        group: config.SPLITTER_GROUP_ID,
      },
      'splitter started',
    );
    return { counters };
  });
}
