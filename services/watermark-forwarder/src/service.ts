import { setTimeout as sleep } from 'node:timers/promises';
import { ConvoyError } from '@convoy/errors';
import {
  createBatchedProducer,
  createKafkaClients,
  ensureTopics,
  fetchCommittedOffsets,
  fetchEndOffsets,
  fetchMaxMessageBytes,
  partitionId,
  runPartitionProcessor,
  type KafkaClients,
  type PartitionHandler,
  type PartitionProcessor,
  type TopicPartition,
} from '@convoy/kafka';
import { createServiceShell, type ServiceHandle } from '@convoy/lifecycle';
import type { Logger } from '@convoy/logging';
import { counterTotals } from '@convoy/telemetry';
import { stateTopicOf, type ForwarderConfig } from './config.ts';
import { FLOOR_KEY, readFloor } from './floor-store.ts';
import { WatermarkForwarder } from './forwarder-handler.ts';

export const WMF_INPUT_TOPIC_MISSING = 'WMF_INPUT_TOPIC_MISSING';

/** Assumed for the DLQ topic when its `max.message.bytes` is unreadable: the broker default. */
const BROKER_DEFAULT_MAX_MESSAGE_BYTES = 1048588;

export interface ForwarderServiceDeps {
  logger: Logger;
  now?: () => number;
  onFatal?: (error: ConvoyError) => void;
  /** How long to wait for the input topics to exist at start. Default 60 s. */
  inputTopicWaitMs?: number;
}

export type ForwarderService = ServiceHandle;

async function inputPartitions(clients: KafkaClients, topics: readonly string[], waitMs: number, logger: Logger): Promise<TopicPartition[]> {
  const deadline = Date.now() + waitMs;
  const out: TopicPartition[] = [];
  for (const topic of topics) {
    for (let attempt = 0; ; attempt++) {
      const ends = await fetchEndOffsets(clients, topic).catch(() => new Map<number, number>());
      if (ends.size > 0) {
        for (const partition of [...ends.keys()].sort((a, b) => a - b)) out.push({ topic, partition });
        break;
      }
      if (Date.now() > deadline) {
        throw new ConvoyError(WMF_INPUT_TOPIC_MISSING, `input topic ${topic} does not exist; create it or fix WMF_INPUT_TOPICS`, { retriable: true, context: { topic } });
      }
      if (attempt === 0) logger.info({ topic }, 'waiting for an input topic');
      await sleep(500);
    }
  }
  return out;
}

/**
 * Starts the forwarder: HTTP → Kafka clients → input partitions (ALL of them are the tracker's
 * inputs) → output / state / DLQ topics → last written watermark from the state topic → partition
 * processor (one transaction per batch: forwarded events, dead letters, input offsets) → a single
 * serial writer for combined watermarks (state record first, then one record per output partition).
 * Runs as ONE instance per set of inputs: the minimum must be over every input.
 */
export async function startService(config: ForwarderConfig, deps: ForwarderServiceDeps): Promise<ForwarderService> {
  const logger = deps.logger;
  const now = deps.now ?? Date.now;
  const shell = createServiceShell({ name: 'watermark-forwarder', config, logger });
  const { shutdown, metrics, health } = shell;
  const m = {
    eventsIn: metrics.counter({ name: 'events_forwarded_total', help: 'Input records forwarded to the output topic' }),
    watermarksIn: metrics.counter({ name: 'watermarks_in_total', help: 'Watermark records read from the inputs' }),
    deadLetters: metrics.counter({ name: 'dead_letters_total', help: 'Malformed input records (or watermarks of the wrong clock or too far ahead) sent to the DLQ, by error code', labelNames: ['code'] }),
    trimmed: metrics.counter({ name: 'dead_letters_trimmed_total', help: 'Dead letters written without their value (and maybe key and headers) to fit the DLQ topic' }),
    caughtUp: metrics.counter({ name: 'caught_up_total', help: 'Times an input was excluded from the minimum because it reached its end offset' }),
    written: metrics.counter({ name: 'watermarks_written_total', help: 'Combined watermarks written (each into every output partition)' }),
    writeFailures: metrics.counter({ name: 'watermark_write_failures_total', help: 'Failed combined-watermark writes (retried)' }),
    output: metrics.gauge({ name: 'output_watermark', help: 'Last combined watermark written to the output' }),
    inputWatermark: metrics.gauge({ name: 'input_watermark', help: 'Watermark per input partition', labelNames: ['input'] }),
    lag: metrics.gauge({ name: 'watermark_lag', help: 'Per input: now − watermark in ms (time clock), or numbers behind the leading input (logical clock)', labelNames: ['input'] }),
    quiet: metrics.gauge({ name: 'quiet_inputs', help: 'Inputs silent past WMF_IDLE_TIMEOUT_MS and not caught up (they hold the output watermark)' }),
    regressions: metrics.gauge({ name: 'input_regressions', help: 'Input watermarks below that input\'s previous one (ignored)' }),
    rejoinedBehind: metrics.gauge({ name: 'rejoined_behind', help: 'Caught-up inputs that spoke again below the output watermark (their older events are late downstream)' }),
  };
  health.setReady('topics', false, 'not checked yet');

  return shell.start(async () => {
    const clients = createKafkaClients(config, { logger, clientId: config.KAFKA_CLIENT_ID });
    shutdown.register('disconnect', () => clients.disconnect());
    const inputs = await inputPartitions(clients, config.WMF_INPUT_TOPICS, deps.inputTopicWaitMs ?? 60_000, logger);
    const perTopic = new Map<string, number>();
    for (const tp of inputs) perTopic.set(tp.topic, (perTopic.get(tp.topic) ?? 0) + 1);
    const wanted = config.WMF_OUTPUT_PARTITIONS ?? Math.max(...perTopic.values());
    const stateTopic = stateTopicOf(config);
    const counts = await ensureTopics(clients, [
      { topic: config.WMF_OUTPUT_TOPIC, partitions: wanted },
      { topic: stateTopic, partitions: 1, configs: { 'cleanup.policy': 'compact' } },
      { topic: config.WMF_DLQ_TOPIC, partitions: 1 },
    ]);
    const outputPartitions = counts.get(config.WMF_OUTPUT_TOPIC) ?? wanted;
    const floor = await readFloor(clients, stateTopic, logger);
    // Dead letters copy the input record: fitted to the DLQ topic's limit, an oversized one cannot stop the partition.
    const dlqLimit = await fetchMaxMessageBytes(clients, [config.WMF_DLQ_TOPIC])
      .then((limits) => limits.get(config.WMF_DLQ_TOPIC))
      .catch((error: unknown) => void logger.warn({ err: error }, 'describing the DLQ topic failed'));
    if (dlqLimit === undefined) logger.warn({ assumed: BROKER_DEFAULT_MAX_MESSAGE_BYTES }, 'max.message.bytes of the DLQ topic is unreadable; assuming the broker default');
    health.setReady('topics', true, `${config.WMF_INPUT_TOPICS.join(', ')} → ${config.WMF_OUTPUT_TOPIC} (${outputPartitions} partitions)`);
    if (floor !== undefined) m.output.set(floor);

    const forwarder = new WatermarkForwarder({
      inputs,
      outputTopic: config.WMF_OUTPUT_TOPIC,
      outputPartitions,
      dlqTopic: config.WMF_DLQ_TOPIC,
      clock: config.WMF_CLOCK,
      idleTimeoutMs: config.WMF_IDLE_TIMEOUT_MS,
      caughtUpAfterMs: config.WMF_CAUGHT_UP_AFTER_MS,
      now: now(),
      ...(floor === undefined ? {} : { floor }),
      ...(config.WMF_EVENT_TIME_MAX_FUTURE_MS === 0 ? {} : { maxFutureMs: config.WMF_EVENT_TIME_MAX_FUTURE_MS }),
      maxDeadLetterBytes: dlqLimit ?? BROKER_DEFAULT_MAX_MESSAGE_BYTES,
    });

    const producer = await createBatchedProducer(clients);
    shutdown.register('watermark-producer', () => producer.disconnect());
    // One writer, one write at a time: watermarks land on the output in increasing order.
    let pumping: Promise<void> | undefined;
    let again = false;
    const pump = (): void => {
      if (pumping !== undefined) {
        again = true;
        return;
      }
      pumping = (async () => {
        do {
          again = false;
          const emission = forwarder.pendingEmission();
          if (emission === undefined) break;
          try {
            // The state record first: after a crash between the two writes the floor is above the output, never below.
            await producer.send([{ topic: stateTopic, partition: 0, key: FLOOR_KEY, value: String(emission.watermark) }]);
            await producer.send(emission.records);
            forwarder.confirmWritten(emission.watermark);
            m.written.inc();
            m.output.set(emission.watermark);
          } catch (error) {
            m.writeFailures.inc();
            logger.warn({ err: error, watermark: emission.watermark }, 'combined watermark write failed; retried on the next tick');
            break;
          }
        } while (again || forwarder.pendingEmission() !== undefined);
      })().finally(() => {
        pumping = undefined;
      });
    };
    shutdown.register('watermark-writer', async () => {
      await pumping;
    });

    let ends = new Map<string, number>();
    const refreshEnds = async (): Promise<void> => {
      const next = new Map<string, number>();
      for (const topic of config.WMF_INPUT_TOPICS) {
        for (const [partition, end] of await fetchEndOffsets(clients, topic)) next.set(partitionId({ topic, partition }), end);
      }
      ends = next;
    };
    await refreshEnds().catch(() => undefined);
    const endsTimer = setInterval(() => {
      void refreshEnds().catch((error: unknown) => logger.debug({ err: error }, 'end offsets refresh failed'));
    }, config.WMF_END_OFFSETS_INTERVAL_MS);
    shutdown.register('end-offsets', () => clearInterval(endsTimer));

    const push = counterTotals();
    const syncMetrics = (at: number): void => {
      const c = forwarder.counters;
      push(m.eventsIn, c.forwarded);
      push(m.watermarksIn, c.watermarksIn);
      push.byLabel(m.deadLetters, c.deadLetteredByCode);
      push(m.trimmed, c.deadLettersTrimmed);
      push(m.caughtUp, c.caughtUpMarks);
      for (const { input, watermark, lag } of forwarder.lags(at)) {
        m.inputWatermark.set({ input }, watermark);
        m.lag.set({ input }, lag);
      }
      m.quiet.set(forwarder.quietInputs(at).length);
      m.regressions.set(forwarder.regressions);
      m.rejoinedBehind.set(forwarder.rejoinedBehind);
    };

    let processor: PartitionProcessor | undefined;
    const handler: PartitionHandler = {
      async onAssigned(tp, at) {
        const committed = await fetchCommittedOffsets(clients, config.WMF_GROUP_ID, tp.topic);
        forwarder.onAssigned(tp, committed.get(tp.partition), at);
      },
      onRecords(tp, records, out, at) {
        forwarder.onRecords(tp, records, out, at);
        syncMetrics(at);
      },
      onTick(tp, _out, at) {
        forwarder.onTick(tp, at, { endOffset: ends.get(partitionId(tp)), committedOffset: processor?.committedOffset(tp) });
        syncMetrics(at);
        pump();
      },
      onRevoked(tp) {
        forwarder.onRevoked(tp);
      },
    };
    processor = await runPartitionProcessor({
      clients,
      groupId: config.WMF_GROUP_ID,
      topics: config.WMF_INPUT_TOPICS,
      transactionalIdPrefix: config.WMF_GROUP_ID,
      handler,
      commitMode: 'batch-end',
      tickIntervalMs: config.WMF_TICK_INTERVAL_MS,
      onFatal: (error, tp) => {
        logger.error({ err: error, partition: tp === undefined ? undefined : partitionId(tp) }, 'forwarder partition failed');
        deps.onFatal?.(error);
      },
      logger,
      metrics,
      health,
      clock: now,
    });
    shutdown.register('stop-processor', () => processor!.stop());
    logger.info({ inputs: inputs.map(partitionId), output: config.WMF_OUTPUT_TOPIC, outputPartitions, floor, clock: config.WMF_CLOCK, maxFutureMs: config.WMF_EVENT_TIME_MAX_FUTURE_MS }, 'watermark forwarder started');
    return {};
  });
}
