import { createBatchedProducer, createKafkaClients, fetchEndOffsets, type KafkaClients } from '@convoy/kafka';
import { createServiceShell, type ServiceHandle } from '@convoy/lifecycle';
import type { Logger } from '@convoy/logging';
import { BlockCounter } from './block-counter.ts';
import { logicalLagOf, type GeneratorConfig } from './config.ts';
import { CounterDispenser, startCounterHttp } from './counter-http.ts';
import { ensureCounterTopic, openReservationLog, readHighestValue } from './durable-counter.ts';
import { LogicalWatermarks, TimeWatermarks, watermarkRecords } from './periodic-watermarks.ts';

export interface GeneratorServiceDeps {
  logger: Logger;
  /** Clock; default `Date.now`. */
  now?: () => number;
}

export interface GeneratorService extends ServiceHandle {
  /** The counter's HTTP port (logical mode), else undefined. */
  readonly counterPort: number | undefined;
}

/** Partition count per topic; a topic that does not exist (yet) is left out and logged. */
async function partitionCounts(clients: KafkaClients, topics: readonly string[], logger: Logger): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const topic of topics) {
    try {
      const ends = await fetchEndOffsets(clients, topic);
      if (ends.size > 0) counts.set(topic, ends.size);
    } catch (error) {
      logger.warn({ topic, err: error }, 'input topic not readable; no watermarks for it until it is');
    }
  }
  return counts;
}

/**
 * Starts the generator: HTTP (metrics, health) → Kafka clients → (logical mode: counter recovered
 * from its reservation topic, counter HTTP API) → a timer that writes one watermark record into
 * every partition of every `WM_TOPICS` topic each `WM_INTERVAL_MS` (idempotent producer, acks=all).
 */
export async function startService(config: GeneratorConfig, deps: GeneratorServiceDeps): Promise<GeneratorService> {
  const logger = deps.logger;
  const now = deps.now ?? Date.now;
  const shell = createServiceShell({ name: 'watermark-generator', config, logger });
  const { shutdown, metrics, health } = shell;
  const m = {
    written: metrics.counter({ name: 'watermarks_written_total', help: 'Watermark records written, per topic', labelNames: ['topic'] }),
    current: metrics.gauge({ name: 'current_watermark', help: 'Last watermark written (ms since the epoch in time mode, counter number in logical mode)' }),
    failures: metrics.counter({ name: 'write_failures_total', help: 'Watermark rounds whose write failed (retried next round)' }),
    counterValue: metrics.gauge({ name: 'counter_value', help: 'Highest counter number handed out (logical mode)' }),
    counterReserved: metrics.gauge({ name: 'counter_reserved_up_to', help: 'Highest counter number durably reserved (logical mode)' }),
    counterHandedOut: metrics.counter({ name: 'counter_numbers_handed_out_total', help: 'Counter numbers handed out by this process (logical mode)' }),
  };
  health.setReady('watermarks', false, 'not started');

  return shell.start(async () => {
    let counterPort: number | undefined;
    const clients = createKafkaClients(config, { logger, clientId: config.KAFKA_CLIENT_ID });
    shutdown.register('disconnect', () => clients.disconnect());
    const producer = await createBatchedProducer(clients);
    shutdown.register('producer', () => producer.disconnect());

    let watermarkAt: (at: number) => number | undefined;
    if (config.WM_MODE === 'time') {
      const time = new TimeWatermarks(config.WM_MAX_OUT_OF_ORDER_MS);
      watermarkAt = (at) => time.watermarkAt(at);
    } else {
      await ensureCounterTopic(clients, config.WM_COUNTER_TOPIC);
      const recovered = await readHighestValue(clients, config.WM_COUNTER_TOPIC, logger);
      const counter = new BlockCounter({ blockSize: config.WM_COUNTER_BLOCK_SIZE, maxCount: config.WM_COUNTER_MAX_COUNT, reservedUpTo: recovered });
      const log = await openReservationLog(clients, config.WM_COUNTER_TOPIC);
      shutdown.register('reservation-log', () => log.close());
      const logical = new LogicalWatermarks({ lagMs: logicalLagOf(config) });
      logical.observe(counter.lastHandedOut, now());
      const dispenser = new CounterDispenser(counter, log, (allocation) => {
        m.counterHandedOut.inc(allocation.last - allocation.first + 1);
        m.counterValue.set(counter.lastHandedOut);
        m.counterReserved.set(counter.reservedUpTo);
      });
      m.counterValue.set(counter.lastHandedOut);
      m.counterReserved.set(counter.reservedUpTo);
      let lastWatermark: number | undefined;
      watermarkAt = (at) => {
        logical.observe(counter.lastHandedOut, at);
        lastWatermark = logical.watermarkAt(at);
        return lastWatermark;
      };
      const api = await startCounterHttp({ dispenser, currentWatermark: () => lastWatermark, port: config.WM_COUNTER_PORT, host: config.HTTP_HOST, logger });
      counterPort = api.port;
      shutdown.register('counter-http', () => api.close());
      logger.info({ counterPort, resumedAbove: recovered, topic: config.WM_COUNTER_TOPIC }, 'counter recovered');
    }

    let partitions = await partitionCounts(clients, config.WM_TOPICS, logger);
    let refreshedAt = now();
    let inFlight = false;
    const round = async (): Promise<void> => {
      const at = now();
      if (at - refreshedAt >= config.WM_PARTITION_REFRESH_MS || partitions.size < config.WM_TOPICS.length) {
        partitions = await partitionCounts(clients, config.WM_TOPICS, logger);
        refreshedAt = at;
      }
      const watermark = watermarkAt(at);
      if (watermark === undefined || partitions.size === 0) return;
      const records = watermarkRecords(partitions, config.WM_MODE, watermark, at);
      await producer.send(records);
      for (const [topic, count] of partitions) m.written.inc({ topic }, count);
      m.current.set(watermark);
    };
    const timer = setInterval(() => {
      if (inFlight) return;
      inFlight = true;
      round()
        .catch((error: unknown) => {
          m.failures.inc();
          logger.warn({ err: error }, 'watermark round failed; retried next round');
        })
        .finally(() => {
          inFlight = false;
        });
    }, config.WM_INTERVAL_MS);
    shutdown.register('timer', () => clearInterval(timer));
    health.setReady('watermarks', true, `${config.WM_MODE} mode into ${config.WM_TOPICS.join(', ')}`);
    logger.info({ mode: config.WM_MODE, topics: config.WM_TOPICS, intervalMs: config.WM_INTERVAL_MS, partitions: Object.fromEntries(partitions) }, 'watermark generator started');
    return { counterPort };
  });
}
