import { ConvoyError } from '@convoy/errors';
import {
  createKafkaClients,
  ensureTopics,
  runPartitionProcessor,
  waitForTopic,
  type PartitionHandler,
  type PartitionProcessor,
  type ProcessorOutput,
  type TopicPartition,
} from '@convoy/kafka';
import { createServiceShell, type ServiceHandle } from '@convoy/lifecycle';
import type { Logger } from '@convoy/logging';
import { counterTotalsBy, type Metrics } from '@convoy/telemetry';
import { lateTopicOf, type MergerConfig } from './config.ts';
import { PartitionMerger, type MergerOptions } from './merger-handler.ts';
import { readLastReleased } from './output-tail.ts';

export const MERGER_INPUT_TOPIC_MISSING = 'MERGER_INPUT_TOPIC_MISSING';

export interface MergerServiceDeps {
  logger: Logger;
  /** Clock for `now`; default `Date.now`. */
  now?: () => number;
  /** A partition stopped for good (its unit was not committed): main.ts exits so a restart recovers. */
  onFatal?: (error: ConvoyError) => void;
  /** How long to wait for the input topic to exist at start. Default 60 s. */
  inputTopicWaitMs?: number;
}

export type MergerService = ServiceHandle;

function mergerOptions(config: MergerConfig): MergerOptions {
  return {
    outputTopic: config.MERGER_OUTPUT_TOPIC,
    lateTopic: lateTopicOf(config),
    dlqTopic: config.MERGER_DLQ_TOPIC,
    gapTimeoutMs: config.MERGER_GAP_TIMEOUT_MS,
    latePolicy: config.MERGER_LATE_POLICY,
    neverDrop: config.MERGER_NEVER_DROP,
    capacity: config.MERGER_CAPACITY,
    capacityBytes: config.MERGER_CAPACITY_BYTES,
    overflow: config.MERGER_OVERFLOW,
  };
}

function mergerMetrics(metrics: Metrics) {
  return {
    eventsIn: metrics.counter({ name: 'events_in_total', help: 'Input records by kind (data, filler, progress, watermark, invalid)', labelNames: ['kind'] }),
    eventsOut: metrics.counter({ name: 'events_out_total', help: 'Data records released in order to the output topic' }),
    gaps: metrics.counter({ name: 'gaps_resolved_total', help: 'Gaps closed, by what closed them (marker = proven dropped; timeout, overflow = skipped without proof)', labelNames: ['by'] }),
    late: metrics.counter({ name: 'late_total', help: 'Records that arrived after their seq was skipped, by late policy', labelNames: ['policy'] }),
    duplicates: metrics.counter({ name: 'duplicates_total', help: 'Records at or below the last released seq (replays, retries), dropped' }),
    deadLetters: metrics.counter({ name: 'dead_letters_total', help: 'Malformed input records sent to the dead-letter topic' }),
    rejections: metrics.counter({ name: 'back_pressure_rejections_total', help: 'Attempts to hold a record in a full buffer under back-pressure' }),
    bufferEvents: metrics.gauge({ name: 'buffer_events', help: 'Held entries (data and fillers) per input partition', labelNames: ['partition'] }),
    bufferBytes: metrics.gauge({ name: 'buffer_bytes', help: 'Held bytes per input partition', labelNames: ['partition'] }),
    pending: metrics.gauge({ name: 'pending_events', help: 'Records waiting for room under back-pressure, per input partition', labelNames: ['partition'] }),
    releaseDelay: metrics.histogram({
      name: 'release_delay_seconds',
      help: "Time from a record's arrival at the merger to its release in order",
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    }),
    resumes: metrics.counter({ name: 'resumes_total', help: 'Sources resumed from the output tail on partition assignment' }),
  };
}

type MergerMetrics = ReturnType<typeof mergerMetrics>;

/** Pushes the growth of a partition merger's counters since the last call into the Prometheus series. */
function counterSync(m: MergerMetrics) {
  const totalsOf = counterTotalsBy<PartitionMerger>();
  return (merger: PartitionMerger): void => {
    const push = totalsOf(merger);
    const c = merger.counters;
    push.byLabel(m.eventsIn, { data: c.dataIn, filler: c.fillersIn, progress: c.markersIn, watermark: c.watermarksIgnored, invalid: c.deadLettered });
    push(m.eventsOut, c.released);
    push.byLabel(m.gaps, { marker: c.gapsByMarker, timeout: c.gapsByTimeout, overflow: c.gapsByOverflow });
    push.byLabel(m.late, { 'emit-flagged': c.lateEmitted, 'route-late': c.lateRouted, drop: c.lateDropped });
    push(m.duplicates, c.duplicates);
    push(m.deadLetters, c.deadLettered);
    push(m.rejections, c.rejectedFull);
  };
}

/**
 * Starts the merger: HTTP (metrics, health) → Kafka clients → topics → partition processor with one
 * `PartitionMerger` per assigned input partition. Each unit of work (batch or tick) of a partition
 * commits its output and `safeCommitOffset()` in one transaction (transactional id per input
 * partition). On assignment, the last released seq of each source is recovered from the committed
 * tail of the output partition and resumed, so a restart neither re-emits nor skips.
 */
export async function startService(config: MergerConfig, deps: MergerServiceDeps): Promise<MergerService> {
  const logger = deps.logger;
  const now = deps.now ?? Date.now;
  const shell = createServiceShell({ name: 'merger', config, logger });
  const { shutdown, metrics, health } = shell;
  const m = mergerMetrics(metrics);
  const sync = counterSync(m);
  health.setReady('topics', false, 'not checked yet');

  return shell.start(async () => {
    const clients = createKafkaClients(config, { logger, clientId: config.KAFKA_CLIENT_ID });
    shutdown.register('disconnect', () => clients.disconnect());

    const input = config.MERGER_INPUT_TOPIC;
    const output = config.MERGER_OUTPUT_TOPIC;
    const partitions = await waitForTopic(clients, input, { waitMs: deps.inputTopicWaitMs ?? 60_000, code: MERGER_INPUT_TOPIC_MISSING, hint: 'create it (one partition per source partition) or set MERGER_INPUT_TOPIC', logger });
    await ensureTopics(clients, [
      { topic: output, partitions },
      { topic: lateTopicOf(config), partitions },
      { topic: config.MERGER_DLQ_TOPIC, partitions: 1 },
    ]);
    health.setReady('topics', true, `${input} → ${output} (${partitions} partitions)`);

    const options = mergerOptions(config);
    const mergers = new Map<number, PartitionMerger>();
    const paused = new Set<number>();

    const afterUnit = (tp: TopicPartition, merger: PartitionMerger, out: ProcessorOutput): void => {
      const safe = merger.safeCommitOffset();
      if (safe !== undefined) out.commitUpTo(safe);
      if (merger.wantsPause && !paused.has(tp.partition)) {
        paused.add(tp.partition);
        out.pause();
      } else if (!merger.wantsPause && paused.delete(tp.partition)) {
        out.resume();
      }
      const label = String(tp.partition);
      m.bufferEvents.set({ partition: label }, merger.size);
      m.bufferBytes.set({ partition: label }, merger.bytes);
      m.pending.set({ partition: label }, merger.pendingCount);
      sync(merger);
    };

    const handler: PartitionHandler = {
      async onAssigned(tp) {
        const points = await readLastReleased({
          clients,
          topic: output,
          partition: tp.partition,
          window: config.MERGER_RECOVERY_WINDOW,
          logger,
        });
        const merger = new PartitionMerger(options, {
          released: (_source, delayMs) => m.releaseDelay.observe(delayMs / 1000),
          suspectedDrop: (source, fromSeq, toSeq, cause) =>
            logger.warn({ source, fromSeq, toSeq, cause }, 'gap skipped without proof; later arrivals follow the late policy'),
          deadLettered: (record, error) =>
            logger.warn({ partition: record.partition, offset: record.offset, code: error.code, reason: error.message }, 'input record dead-lettered'),
        });
        for (const [source, seq] of points) {
          merger.resume(source, seq);
          m.resumes.inc();
        }
        mergers.set(tp.partition, merger);
        paused.delete(tp.partition);
        logger.info({ partition: tp.partition, resumed: Object.fromEntries(points) }, 'partition assigned');
      },
      onRecords(tp, records, out, at) {
        const merger = mergers.get(tp.partition);
        if (merger === undefined) throw new ConvoyError('MERGER_NOT_ASSIGNED', `records for ${tp.topic}/${tp.partition} before its assignment`);
        merger.onRecords(records, at, out);
        afterUnit(tp, merger, out);
      },
      onTick(tp, out, at) {
        const merger = mergers.get(tp.partition);
        if (merger === undefined) return;
        const deadline = merger.nextDeadline();
        if ((deadline !== undefined && deadline <= at) || merger.wantsPause) merger.onTick(at, out);
        afterUnit(tp, merger, out);
      },
      onRevoked(tp) {
        // Held records are not lost: the commit offset never passed them, the next owner re-reads them.
        mergers.delete(tp.partition);
        paused.delete(tp.partition);
        const label = String(tp.partition);
        m.bufferEvents.set({ partition: label }, 0);
        m.bufferBytes.set({ partition: label }, 0);
        m.pending.set({ partition: label }, 0);
      },
    };

    const processor: PartitionProcessor = await runPartitionProcessor({
      clients,
      groupId: config.MERGER_GROUP_ID,
      topics: [input],
      transactionalIdPrefix: config.MERGER_GROUP_ID,
      handler,
      commitMode: 'handler',
      tickIntervalMs: config.MERGER_TICK_INTERVAL_MS,
      onFatal: (error, tp) => {
        logger.error({ err: error, partition: tp === undefined ? undefined : `${tp.topic}/${tp.partition}` }, 'merger partition failed');
        deps.onFatal?.(error);
      },
      logger,
      metrics,
      health,
      clock: now,
    });
    // Last registered, first to run: stop fetching and finish the transaction in flight.
    shutdown.register('stop-processor', () => processor.stop());
    logger.info({ input, output, partitions, group: config.MERGER_GROUP_ID }, 'merger started');
    return {};
  });
}
