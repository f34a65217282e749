import { setTimeout as sleep } from 'node:timers/promises';
import { createCodec, registryOptionsFrom } from '@convoy/codecs';
import { ConvoyError } from '@convoy/errors';
import {
  createKafkaClients,
  ensureTopics,
  fetchCommittedOffsets,
  fetchMaxMessageBytes,
  readPartitionTail,
  runPartitionProcessor,
  waitForTopic,
  type ConvoyRecord,
  type PartitionHandler,
  type PartitionProcessor,
  type ProcessorOutput,
  type TopicPartition,
} from '@convoy/kafka';
import { createServiceShell, type ServiceHandle } from '@convoy/lifecycle';
import type { Logger } from '@convoy/logging';
import { AqKSlack, FixedSlack, KSlack, type SlackEstimator } from '@convoy/ordering';
import { counterTotalsBy, type Metrics } from '@convoy/telemetry';
import { eventTimeBoundsOf, latePolicies, lateTopicOf, parseSource, type ReorderConfig } from './config.ts';
import { PartitionReorder, type ReorderInput, type ReorderOptions } from './reorder-handler.ts';
import { resumePointFromTail, tailIsEnough } from './resume-point.ts';

export const REORDER_INPUT_TOPIC_MISSING = 'REORDER_INPUT_TOPIC_MISSING';

export interface ReorderServiceDeps {
  logger: Logger;
  now?: () => number;
  onFatal?: (error: ConvoyError) => void;
  inputTopicWaitMs?: number;
}

export type ReorderService = ServiceHandle;

/** Assumed for the DLQ topic when its `max.message.bytes` is unreadable: the broker default. */
const BROKER_DEFAULT_MAX_MESSAGE_BYTES = 1048588;

/** The pure handler's options from validated config; `maxDeadLetterBytes` as read from the DLQ topic at start. */
export function reorderOptions(config: ReorderConfig, maxDeadLetterBytes?: number): ReorderOptions {
  const { policyOf, neverDrop } = latePolicies(config);
  let estimator: ((stream: string) => SlackEstimator) | undefined;
  if (config.REORDER_MODE === 'event-time') {
    const maxK = config.REORDER_MAX_K_MS;
    if (config.REORDER_SLACK === 'fixed') estimator = () => new FixedSlack(config.REORDER_SLACK_MS);
    else if (config.REORDER_SLACK === 'k-slack') estimator = () => new KSlack({ maxK });
    else {
      estimator = () =>
        new AqKSlack({
          errorThreshold: config.REORDER_AQ_EPSILON,
          confidence: config.REORDER_AQ_CONFIDENCE,
          aggregate: 'count',
          windowSize: config.REORDER_AQ_WINDOW_MS,
          ...(config.REORDER_AQ_SLIDE_MS === undefined ? {} : { windowSlide: config.REORDER_AQ_SLIDE_MS }),
          maxK,
        });
    }
  }
  return {
    mode: config.REORDER_MODE,
    outputTopic: config.REORDER_OUTPUT_TOPIC,
    lateTopic: lateTopicOf(config),
    dlqTopic: config.REORDER_DLQ_TOPIC,
    streamKey: parseSource(config.REORDER_STREAM_KEY, ['key']) as ReorderOptions['streamKey'],
    seqSource: parseSource(config.REORDER_SEQ_SOURCE, []) as ReorderOptions['seqSource'],
    eventTimeSource: parseSource(config.REORDER_EVENT_TIME_SOURCE, ['timestamp']) as ReorderOptions['eventTimeSource'],
    gapTimeoutMs: config.REORDER_GAP_TIMEOUT_MS,
    ...(estimator === undefined ? {} : { estimator }),
    idleFlushMs: config.REORDER_IDLE_FLUSH_MS,
    policyOf,
    neverDrop,
    capacity: config.REORDER_CAPACITY,
    capacityBytes: config.REORDER_CAPACITY_BYTES,
    overflow: config.REORDER_OVERFLOW,
    ...(config.REORDER_MODE === 'event-time' ? { eventTimeBounds: eventTimeBoundsOf(config) } : {}),
    ...(maxDeadLetterBytes === undefined ? {} : { maxDeadLetterBytes }),
  };
}

function reorderMetrics(metrics: Metrics) {
  return {
    eventsIn: metrics.counter({ name: 'events_in_total', help: 'Input records by kind (data, filler, progress, ignored, invalid)', labelNames: ['kind'] }),
    eventsOut: metrics.counter({ name: 'events_out_total', help: 'Records released in order to the output topic' }),
    gaps: metrics.counter({ name: 'gaps_resolved_total', help: 'Gaps closed, by what closed them (filler, marker; timeout, overflow = without proof)', labelNames: ['by'] }),
    late: metrics.counter({ name: 'late_total', help: 'Records that arrived behind what their stream released, by late policy', labelNames: ['policy'] }),
    duplicates: metrics.counter({ name: 'duplicates_total', help: 'Records already released (replays after a restart, upstream retries), dropped' }),
    deadLetters: metrics.counter({ name: 'dead_letters_total', help: 'Bad input records sent to the dead-letter topic, by error code', labelNames: ['code'] }),
    trimmed: metrics.counter({ name: 'dead_letters_trimmed_total', help: 'Dead letters written without their value (and maybe key and headers) to fit the DLQ topic' }),
    rejections: metrics.counter({ name: 'back_pressure_rejections_total', help: 'Attempts to hold a record in a full buffer under back-pressure' }),
    bufferEvents: metrics.gauge({ name: 'buffer_events', help: 'Held entries per input partition', labelNames: ['partition'] }),
    bufferBytes: metrics.gauge({ name: 'buffer_bytes', help: 'Held bytes per input partition', labelNames: ['partition'] }),
    pending: metrics.gauge({ name: 'pending_events', help: 'Records waiting for room under back-pressure, per input partition', labelNames: ['partition'] }),
    slack: metrics.gauge({
      name: 'slack_k_ms',
      help: 'Current K per stream (event-time mode); the streams with the largest K get their own series, the rest aggregate (max) into stream="_other"',
      labelNames: ['stream'],
    }),
    resumes: metrics.counter({ name: 'resumes_total', help: 'Partitions resumed from the output tail on assignment' }),
  };
}

type ReorderMetrics = ReturnType<typeof reorderMetrics>;

/** Pushes the growth of a partition handler's counters since the last call into the Prometheus series. */
function counterSync(m: ReorderMetrics) {
  const totalsOf = counterTotalsBy<PartitionReorder>();
  return (handler: PartitionReorder): void => {
    const push = totalsOf(handler);
    const c = handler.counters;
    push.byLabel(m.eventsIn, { data: c.dataIn, filler: c.fillersIn, progress: c.markersIn, ignored: c.controlIgnored, invalid: c.deadLettered });
    push(m.eventsOut, c.released);
    push.byLabel(m.gaps, { filler: c.gapsByFiller, marker: c.gapsByMarker, timeout: c.gapsByTimeout, overflow: c.gapsByOverflow });
    push.byLabel(m.late, { 'emit-flagged': c.lateEmitted, 'route-late': c.lateRouted, drop: c.lateDropped });
    push(m.duplicates, c.duplicates);
    push.byLabel(m.deadLetters, c.deadLetteredByCode);
    push(m.trimmed, c.deadLettersTrimmed);
    push(m.rejections, c.rejectedFull);
  };
}

/** Top `labels` streams by K get a series each; the others' max goes to `_other`. Bounded label set. */
export function slackSeries(handlers: Iterable<PartitionReorder>, labels: number): Map<string, number> {
  const all: [string, number][] = [];
  for (const h of handlers) for (const entry of h.slackByStream()) all.push(entry);
  all.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  const out = new Map<string, number>();
  let other: number | undefined;
  for (const [i, [stream, k]] of all.entries()) {
    if (i < labels && stream !== '_other') out.set(stream, Math.max(k, out.get(stream) ?? 0));
    else other = Math.max(other ?? 0, k);
  }
  if (other !== undefined) out.set('_other', other);
  return out;
}

/**
 * Starts the reorder buffer: HTTP → Kafka clients → topics → partition processor with one
 * `PartitionReorder` per assigned input partition. Output partition = input partition. Each unit
 * of work commits its output and `safeCommitOffset()` in one transaction. On assignment the
 * partition's resume point is read back from the committed tail of its output partition.
 */
export async function startService(config: ReorderConfig, deps: ReorderServiceDeps): Promise<ReorderService> {
  const logger = deps.logger;
  const now = deps.now ?? Date.now;
  const shell = createServiceShell({ name: 'reorder-buffer', config, logger });
  const { shutdown, metrics, health } = shell;
  const m = reorderMetrics(metrics);
  const sync = counterSync(m);
  health.setReady('topics', false, 'not checked yet');

  return shell.start(async () => {
    const clients = createKafkaClients(config, { logger, clientId: config.KAFKA_CLIENT_ID });
    shutdown.register('disconnect', () => clients.disconnect());
    const input = config.REORDER_INPUT_TOPIC;
    const output = config.REORDER_OUTPUT_TOPIC;
    const partitions = await waitForTopic(clients, input, { waitMs: deps.inputTopicWaitMs ?? 60_000, code: REORDER_INPUT_TOPIC_MISSING, hint: 'create it or set REORDER_INPUT_TOPIC', logger });
    await ensureTopics(clients, [
      { topic: output, partitions },
      { topic: lateTopicOf(config), partitions },
      { topic: config.REORDER_DLQ_TOPIC, partitions: 1 },
    ]);
    // Dead letters copy the input record: fitted to the DLQ topic's limit, an oversized one cannot stop the partition.
    const dlqLimit = await fetchMaxMessageBytes(clients, [config.REORDER_DLQ_TOPIC])
      .then((limits) => limits.get(config.REORDER_DLQ_TOPIC))
      .catch((error: unknown) => void logger.warn({ err: error }, 'describing the DLQ topic failed'));
    if (dlqLimit === undefined) logger.warn({ assumed: BROKER_DEFAULT_MAX_MESSAGE_BYTES }, 'max.message.bytes of the DLQ topic is unreadable; assuming the broker default');
    health.setReady('topics', true, `${input} → ${output} (${partitions} partitions)`);

    const options = reorderOptions(config, dlqLimit ?? BROKER_DEFAULT_MAX_MESSAGE_BYTES);
    const needsPayload = options.streamKey.kind === 'field' || (options.mode === 'sequence' ? options.seqSource : options.eventTimeSource).kind === 'field';
    const codec = needsPayload ? createCodec(registryOptionsFrom(config)) : undefined;
    const handlers = new Map<number, PartitionReorder>();
    const paused = new Set<number>();
    let lastSlackUpdate = 0;

    const decodeAll = async (records: readonly ConvoyRecord[]): Promise<ReorderInput[]> => {
      if (codec === undefined) return records.map((record) => ({ record }));
      const out: ReorderInput[] = [];
      for (const record of records) {
        const kind = record.headers['convoy-kind']?.toString('utf8') ?? 'data';
        if (kind !== 'data' || record.value === null) {
          out.push({ record });
          continue;
        }
        for (let attempt = 0; ; attempt++) {
          try {
            out.push({ record, payload: (await codec.decode(record.value)).value });
            break;
          } catch (error) {
            const e = error instanceof ConvoyError ? error : new ConvoyError('CODEC_DECODE_FAILED', String(error));
            if (!e.retriable || attempt >= 5) {
              out.push({ record, decodeError: e });
              break;
            }
            await sleep(200 * 2 ** attempt);
          }
        }
      }
      return out;
    };

    const afterUnit = (tp: TopicPartition, handler: PartitionReorder, out: ProcessorOutput, at: number): void => {
      const safe = handler.safeCommitOffset();
      if (safe !== undefined) out.commitUpTo(safe);
      if (handler.wantsPause && !paused.has(tp.partition)) {
        paused.add(tp.partition);
        out.pause();
      } else if (!handler.wantsPause && paused.delete(tp.partition)) {
        out.resume();
      }
      const label = String(tp.partition);
      m.bufferEvents.set({ partition: label }, handler.size);
      m.bufferBytes.set({ partition: label }, handler.bytes);
      m.pending.set({ partition: label }, handler.pendingCount);
      sync(handler);
      if (options.mode === 'event-time' && at - lastSlackUpdate >= 1000) {
        lastSlackUpdate = at;
        m.slack.reset();
        for (const [stream, k] of slackSeries(handlers.values(), config.REORDER_K_STREAM_LABELS)) m.slack.set({ stream }, k);
      }
    };

    const partitionHandler: PartitionHandler = {
      async onAssigned(tp) {
        const committed = (await fetchCommittedOffsets(clients, config.REORDER_GROUP_ID, input)).get(tp.partition) ?? undefined;
        const tail = await readPartitionTail(clients, {
          topic: output,
          partition: tp.partition,
          window: config.REORDER_RECOVERY_WINDOW,
          enough: tailIsEnough(committed),
          timeoutMs: 60_000,
        });
        const point = resumePointFromTail(tail, options.mode);
        const handler = new PartitionReorder(options);
        if (point.last.size > 0 || point.consumed > 0) {
          handler.resume(point);
          m.resumes.inc();
        }
        handlers.set(tp.partition, handler);
        paused.delete(tp.partition);
        logger.info({ partition: tp.partition, committed, consumed: point.consumed, streams: point.last.size, tailRecords: tail.length }, 'partition assigned');
      },
      async onRecords(tp, records, out, at) {
        const handler = handlers.get(tp.partition);
        if (handler === undefined) throw new ConvoyError('REORDER_NOT_ASSIGNED', `records for ${tp.topic}/${tp.partition} before its assignment`);
        handler.onRecords(await decodeAll(records), at, out);
        afterUnit(tp, handler, out, at);
      },
      onTick(tp, out, at) {
        const handler = handlers.get(tp.partition);
        if (handler === undefined) return;
        const deadline = handler.nextDeadline();
        if ((deadline !== undefined && deadline <= at) || handler.wantsPause) handler.onTick(at, out);
        afterUnit(tp, handler, out, at);
      },
      onRevoked(tp) {
        // Held records are not lost: the commit offset never passed them, the next owner re-reads them.
        handlers.delete(tp.partition);
        paused.delete(tp.partition);
        const label = String(tp.partition);
        m.bufferEvents.set({ partition: label }, 0);
        m.bufferBytes.set({ partition: label }, 0);
        m.pending.set({ partition: label }, 0);
      },
    };

    const processor: PartitionProcessor = await runPartitionProcessor({
      clients,
      groupId: config.REORDER_GROUP_ID,
      topics: [input],
      transactionalIdPrefix: config.REORDER_GROUP_ID,
      handler: partitionHandler,
      commitMode: 'handler',
      tickIntervalMs: config.REORDER_TICK_INTERVAL_MS,
      onFatal: (error, tp) => {
        logger.error({ err: error, partition: tp === undefined ? undefined : `${tp.topic}/${tp.partition}` }, 'reorder partition failed');
        deps.onFatal?.(error);
      },
      logger,
      metrics,
      health,
      clock: now,
    });
    shutdown.register('stop-processor', () => processor.stop());
    logger.info({ input, output, partitions, mode: config.REORDER_MODE, group: config.REORDER_GROUP_ID, eventTimeBounds: options.eventTimeBounds, maxDeadLetterBytes: options.maxDeadLetterBytes }, 'reorder buffer started');
    return {};
  });
}
