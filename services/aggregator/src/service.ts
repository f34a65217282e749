import { ConvoyError } from '@convoy/errors';
import {
  createKafkaClients,
  ensureTopics,
  fetchMaxMessageBytes,
  runPartitionProcessor,
  waitForTopic,
  type PartitionHandler,
  type PartitionProcessor,
  type TopicPartition,
} from '@convoy/kafka';
import { createServiceShell, type ServiceHandle } from '@convoy/lifecycle';
import type { Logger } from '@convoy/logging';
import { hoppingWindows } from '@convoy/ordering';
import { counterTotalsBy, type Metrics } from '@convoy/telemetry';
import {
  DispatchPartitionHandler,
  WindowPartitionHandler,
  type DispatchHandlerOptions,
  type DispatchPartitionState,
  type WindowHandlerOptions,
  type WindowPartitionState,
} from './aggregator-handler.ts';
import { readChangelogState } from './changelog-tail.ts';
import { changelogTopicOf, eventTimeBoundsOf, lateTopicOf, type AggregatorConfig } from './config.ts';

export const AGGREGATOR_INPUT_TOPIC_MISSING = 'AGGREGATOR_INPUT_TOPIC_MISSING';

export interface AggregatorServiceDeps {
  logger: Logger;
  now?: () => number;
  /** A partition stopped for good: main.ts exits so a restart recovers from the changelog. */
  onFatal?: (error: ConvoyError) => void;
  inputTopicWaitMs?: number;
}

export type AggregatorService = ServiceHandle;

/** Assumed for the DLQ topic when its `max.message.bytes` is unreadable: the broker default. */
const BROKER_DEFAULT_MAX_MESSAGE_BYTES = 1048588;

/** `maxDeadLetterBytes`: the DLQ topic's `max.message.bytes` as read at start. */
export function windowHandlerOptions(config: AggregatorConfig, maxDeadLetterBytes?: number): WindowHandlerOptions {
  const size = config.AGG_WINDOW_SIZE_MS;
  const options: WindowHandlerOptions = {
    ...commonOf(config, maxDeadLetterBytes),
    key: config.AGG_KEY,
    eventTime: config.AGG_EVENT_TIME,
    windows: hoppingWindows({ size, slide: config.AGG_WINDOW_SLIDE_MS ?? size, offset: config.AGG_WINDOW_OFFSET_MS }),
    allowedLateness: config.AGG_ALLOWED_LATENESS_MS,
    maxOpenWindows: config.AGG_MAX_OPEN_WINDOWS,
    overflow: config.AGG_OVERFLOW,
    watermark: config.AGG_WATERMARK,
    maxOutOfOrderMs: config.AGG_MAX_OUT_OF_ORDER_MS,
  };
  if (config.AGG_VALUE_FIELD !== undefined) options.valueField = config.AGG_VALUE_FIELD;
  if (config.AGG_EARLY_EVERY_EVENTS !== undefined) options.earlyEveryEvents = config.AGG_EARLY_EVERY_EVENTS;
  if (config.AGG_EARLY_EVERY_MS !== undefined) options.earlyEveryMs = config.AGG_EARLY_EVERY_MS;
  return options;
}

export function dispatchHandlerOptions(config: AggregatorConfig, maxDeadLetterBytes?: number): DispatchHandlerOptions {
  return {
    ...commonOf(config, maxDeadLetterBytes),
    eventTime: config.AGG_EVENT_TIME,
    retention: config.AGG_DISPATCH_RETENTION_MS,
    maxTrackedRequests: config.AGG_DISPATCH_MAX_REQUESTS,
    overflow: config.AGG_DISPATCH_OVERFLOW,
  };
}

function commonOf(config: AggregatorConfig, maxDeadLetterBytes: number | undefined) {
  return {
    outputTopic: config.AGG_OUTPUT_TOPIC,
    lateTopic: lateTopicOf(config),
    dlqTopic: config.AGG_DLQ_TOPIC,
    changelogTopic: changelogTopicOf(config),
    chunkBytes: config.AGG_SNAPSHOT_CHUNK_BYTES,
    eventTimeBounds: eventTimeBoundsOf(config),
    ...(maxDeadLetterBytes === undefined ? {} : { maxDeadLetterBytes }),
  };
}

function aggregatorMetrics(metrics: Metrics) {
  return {
    eventsIn: metrics.counter({ name: 'events_in_total', help: 'Input records by kind (data, watermark, ignored, invalid, duplicate)', labelNames: ['kind'] }),
    results: metrics.counter({ name: 'results_total', help: 'Window results written, by kind (early, final, correction)', labelNames: ['kind'] }),
    corrections: metrics.counter({ name: 'corrections_total', help: 'Corrections: late events within the allowed lateness that changed a fired window' }),
    late: metrics.counter({ name: 'late_events_total', help: 'Events routed to the late topic, by the reason of their first refused window', labelNames: ['reason'] }),
    deadLetters: metrics.counter({ name: 'dead_letters_total', help: 'Bad input records sent to the dead-letter topic, by error code', labelNames: ['code'] }),
    trimmed: metrics.counter({ name: 'dead_letters_trimmed_total', help: 'Dead letters written without their value (and maybe key and headers) to fit the DLQ topic' }),
    retired: metrics.counter({ name: 'windows_retired_total', help: 'Windows dropped from state, by cause (watermark = past the allowed lateness; overflow = cap)', labelNames: ['by'] }),
    openWindows: metrics.gauge({ name: 'open_windows', help: 'Windows held (open or awaiting corrections) per input partition', labelNames: ['partition'] }),
    watermark: metrics.gauge({ name: 'watermark_ms', help: 'Per input partition: no event with an earlier time is on time any more', labelNames: ['partition'] }),
    watermarkMin: metrics.gauge({ name: 'watermark_min_ms', help: 'Minimum of watermark_ms over the assigned partitions that have one' }),
    watermarkLag: metrics.gauge({ name: 'watermark_lag_ms', help: 'Wall clock minus the partition watermark', labelNames: ['partition'] }),
    assignments: metrics.counter({ name: 'assignments_total', help: 'Dispatch: rides assigned (first accept)' }),
    cancellations: metrics.counter({ name: 'cancellations_total', help: 'Dispatch: accepts answered with a cancellation, by reason', labelNames: ['reason'] }),
    dispatchDuplicates: metrics.counter({ name: 'dispatch_duplicates_total', help: "Dispatch: the winner's repeated accepts (no output)" }),
    trackedRequests: metrics.gauge({ name: 'tracked_requests', help: 'Dispatch: decisions held per input partition', labelNames: ['partition'] }),
    changelogWrites: metrics.counter({ name: 'changelog_writes_total', help: 'State writes to the changelog (one per unit of work that changed state)' }),
    restores: metrics.counter({ name: 'restores_total', help: 'Partition assignments, by where the state came from (changelog, empty)', labelNames: ['from'] }),
  };
}

type AggregatorMetrics = ReturnType<typeof aggregatorMetrics>;
type Handler = WindowPartitionHandler | DispatchPartitionHandler;

/** Pushes the growth of a handler's counters since the last call into the Prometheus series. */
function counterSync(m: AggregatorMetrics) {
  const totalsOf = counterTotalsBy<Handler>();
  return (handler: Handler): void => {
    const push = totalsOf(handler);
    const c = handler.counters;
    push.byLabel(m.eventsIn, { data: c.dataIn, watermark: c.watermarksIn, ignored: c.ignored, invalid: c.deadLettered, duplicate: c.duplicates });
    push.byLabel(m.deadLetters, c.deadLetteredByCode);
    push(m.trimmed, c.deadLettersTrimmed);
    push.byLabel(m.results, c.results);
    push(m.corrections, c.results.correction);
    push.byLabel(m.late, c.lateEvents);
    const stats = handler instanceof WindowPartitionHandler ? handler.coreStats : undefined;
    push.byLabel(m.retired, { watermark: stats?.windowsRetiredByWatermark ?? 0, overflow: stats?.windowsRetiredByOverflow ?? 0 });
    push(m.assignments, c.assignments);
    push.byLabel(m.cancellations, c.cancellations);
    push(m.dispatchDuplicates, c.dispatchDuplicates);
    push(m.changelogWrites, c.changelogWrites);
  };
}

/**
 * Starts the aggregator: HTTP → Kafka clients → topics (results compacted in windows mode, late,
 * changelog compacted with one partition per input partition, DLQ) → partition processor with one
 * handler per assigned input partition, restored from the changelog's latest complete write.
 * Each unit (batch or tick) commits its results, late events, dead letters, the changelog write
 * and the input offset in one transaction.
 */
export async function startService(config: AggregatorConfig, deps: AggregatorServiceDeps): Promise<AggregatorService> {
  const logger = deps.logger;
  const now = deps.now ?? Date.now;
  const shell = createServiceShell({ name: 'aggregator', config, logger });
  const { shutdown, metrics, health } = shell;
  const m = aggregatorMetrics(metrics);
  const sync = counterSync(m);
  health.setReady('topics', false, 'not checked yet');

  return shell.start(async () => {
    const clients = createKafkaClients(config, { logger, clientId: config.KAFKA_CLIENT_ID });
    shutdown.register('disconnect', () => clients.disconnect());

    const input = config.AGG_INPUT_TOPIC;
    const mode = config.AGG_MODE;
    const changelog = changelogTopicOf(config);
    const partitions = await waitForTopic(clients, input, { waitMs: deps.inputTopicWaitMs ?? 60_000, code: AGGREGATOR_INPUT_TOPIC_MISSING, hint: 'create it or set AGG_INPUT_TOPIC', logger });
    await ensureTopics(clients, [
      mode === 'windows'
        ? { topic: config.AGG_OUTPUT_TOPIC, partitions, configs: { 'cleanup.policy': 'compact' } }
        : { topic: config.AGG_OUTPUT_TOPIC, partitions },
      { topic: lateTopicOf(config), partitions },
      { topic: changelog, partitions, configs: { 'cleanup.policy': 'compact' } },
      { topic: config.AGG_DLQ_TOPIC, partitions: 1 },
    ]);
    // Dead letters copy the input record: fitted to the DLQ topic's limit, an oversized one cannot stop the partition.
    const dlqLimit = await fetchMaxMessageBytes(clients, [config.AGG_DLQ_TOPIC])
      .then((limits) => limits.get(config.AGG_DLQ_TOPIC))
      .catch((error: unknown) => void logger.warn({ err: error }, 'describing the DLQ topic failed'));
    if (dlqLimit === undefined) logger.warn({ assumed: BROKER_DEFAULT_MAX_MESSAGE_BYTES }, 'max.message.bytes of the DLQ topic is unreadable; assuming the broker default');
    const maxDeadLetterBytes = dlqLimit ?? BROKER_DEFAULT_MAX_MESSAGE_BYTES;
    health.setReady('topics', true, `${input} → ${config.AGG_OUTPUT_TOPIC} (${mode}, ${partitions} partitions)`);

    const windowOptions = mode === 'windows' ? windowHandlerOptions(config, maxDeadLetterBytes) : undefined;
    const dispatchOptions = mode === 'dispatch' ? dispatchHandlerOptions(config, maxDeadLetterBytes) : undefined;
    const handlers = new Map<number, Handler>();

    const gauges = (tp: TopicPartition, handler: Handler, at: number): void => {
      const label = String(tp.partition);
      if (handler instanceof WindowPartitionHandler) {
        m.openWindows.set({ partition: label }, handler.openWindows);
        if (Number.isFinite(handler.watermark)) {
          m.watermark.set({ partition: label }, handler.watermark);
          m.watermarkLag.set({ partition: label }, at - handler.watermark);
        }
        const marks = [...handlers.values()].flatMap((h) => (h instanceof WindowPartitionHandler && Number.isFinite(h.watermark) ? [h.watermark] : []));
        if (marks.length > 0) m.watermarkMin.set(Math.min(...marks));
      } else {
        m.trackedRequests.set({ partition: label }, handler.trackedRequests);
      }
      sync(handler);
    };

    const handler: PartitionHandler = {
      async onAssigned(tp, at) {
        const tail = await readChangelogState({ clients, changelogTopic: changelog, input: tp, window: config.AGG_RECOVERY_WINDOW, logger });
        const state = tail.kind === 'state' ? tail.state : undefined;
        const created: Handler =
          windowOptions !== undefined
            ? new WindowPartitionHandler(tp, windowOptions, state as WindowPartitionState | undefined)
            : new DispatchPartitionHandler(tp, dispatchOptions!, state as DispatchPartitionState | undefined);
        handlers.set(tp.partition, created);
        m.restores.inc({ from: tail.kind === 'state' ? 'changelog' : 'empty' });
        gauges(tp, created, at);
        logger.info(
          { partition: tp.partition, restored: tail.kind === 'state', changelogWrite: tail.kind === 'state' ? tail.id : undefined, inputNext: created.snapshot().inputNext },
          'partition assigned',
        );
      },
      onRecords(tp, records, out, at) {
        const h = handlers.get(tp.partition);
        if (h === undefined) throw new ConvoyError('AGGREGATOR_NOT_ASSIGNED', `records for ${tp.topic}/${tp.partition} before its assignment`);
        h.onRecords(records, out, at);
        gauges(tp, h, at);
      },
      onTick(tp, out, at) {
        const h = handlers.get(tp.partition);
        if (h === undefined) return;
        if (h instanceof WindowPartitionHandler) h.onTick(at, out);
        gauges(tp, h, at);
      },
      onRevoked(tp) {
        // Nothing is lost: the next owner restores the changelog write committed with the offsets.
        handlers.delete(tp.partition);
        const label = String(tp.partition);
        m.openWindows.remove({ partition: label });
        m.watermark.remove({ partition: label });
        m.watermarkLag.remove({ partition: label });
        m.trackedRequests.remove({ partition: label });
      },
    };

    const processor: PartitionProcessor = await runPartitionProcessor({
      clients,
      groupId: config.AGG_GROUP_ID,
      topics: [input],
      transactionalIdPrefix: config.AGG_TRANSACTIONAL_ID_PREFIX ?? config.AGG_GROUP_ID,
      handler,
      commitMode: 'batch-end',
      tickIntervalMs: config.AGG_TICK_INTERVAL_MS,
      maxBatchRecords: config.AGG_MAX_BATCH_RECORDS,
      onFatal: (error, tp) => {
        logger.error({ err: error, partition: tp === undefined ? undefined : `${tp.topic}/${tp.partition}` }, 'aggregator partition failed');
        deps.onFatal?.(error);
      },
      logger,
      metrics,
      health,
      clock: now,
    });
    shutdown.register('stop-processor', () => processor.stop());
    logger.info({ input, output: config.AGG_OUTPUT_TOPIC, changelog, mode, partitions, group: config.AGG_GROUP_ID, eventTimeBounds: eventTimeBoundsOf(config), maxDeadLetterBytes }, 'aggregator started');
    return {};
  });
}
