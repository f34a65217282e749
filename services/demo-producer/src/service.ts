import { setTimeout as sleep } from 'node:timers/promises';
import { randomInt } from 'node:crypto';
import { createCodec, registryOptionsFrom } from '@convoy/codecs';
import { errorMessage, isRetriable } from '@convoy/errors';
import { createBatchedProducer, createKafkaClients, waitForTopic } from '@convoy/kafka';
import { createServiceShell, type ServiceHandle } from '@convoy/lifecycle';
import type { Logger } from '@convoy/logging';
import type { DemoProducerConfig } from './config.ts';
import { EVENT_KINDS, ORDER_AVRO_SCHEMA, OrderGenerator, type Order } from './generator.ts';
import { runTraffic } from './traffic.ts';

export const DEMO_TOPIC_MISSING = 'DEMO_TOPIC_MISSING';

export interface DemoProducerDeps {
  logger: Logger;
  /** Clock; default `Date.now`. */
  now?: () => number;
}

export interface DemoProducerService extends ServiceHandle {
  readonly seed: number;
  /**
   * Settles when the traffic loop ends: with `countReached` true once DEMO_COUNT events were sent,
   * false when stopped first; rejects when a send failed for good.
   */
  readonly done: Promise<{ sent: number; countReached: boolean }>;
}

/** Resolves after `ms`, or at once when `signal` aborts. */
async function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  await sleep(ms, undefined, { signal }).catch(() => undefined);
}

/**
 * Starts the demo producer: HTTP (metrics, health) → Kafka clients → wait for the topic →
 * (Avro: register the Order schema under `<topic>-value`) → the traffic loop. A failed send is
 * counted, logged and retried after a second (the producer itself already retries retriable
 * errors); a non-retriable one stops the loop. Stop: abort the loop, let the batch in flight
 * finish, disconnect, close HTTP.
 */
export async function startService(config: DemoProducerConfig, deps: DemoProducerDeps): Promise<DemoProducerService> {
  const logger = deps.logger;
  const now = deps.now ?? Date.now;
  const shell = createServiceShell({ name: 'demo-producer', config, logger });
  const { shutdown, metrics, health } = shell;
  const events = metrics.counter({ name: 'events_total', help: 'Events produced, by kind (ok, out_of_order, late, malformed)', labelNames: ['kind'] });
  for (const kind of EVENT_KINDS) events.inc({ kind }, 0);
  const failures = metrics.counter({ name: 'send_failures_total', help: 'Produce requests that failed (retried after 1 s when retriable)' });
  health.setReady('producer', false, 'not started');

  const seed = config.DEMO_SEED ?? randomInt(0, 2 ** 32 - 1);
  return shell.start(async () => {
    const clients = createKafkaClients(config, { logger, clientId: config.KAFKA_CLIENT_ID });
    shutdown.register('disconnect', () => clients.disconnect());
    const topic = config.DEMO_TOPIC;
    await waitForTopic(clients, topic, { code: DEMO_TOPIC_MISSING, hint: 'create it or set DEMO_TOPIC', logger });
    const producer = await createBatchedProducer(clients);
    shutdown.register('producer', () => producer.disconnect());

    let encode: (order: Order) => Buffer | Promise<Buffer> = (order) => Buffer.from(JSON.stringify(order), 'utf8');
    if (config.DEMO_FORMAT === 'avro') {
      const codec = createCodec(registryOptionsFrom(config));
      const schemaId = await codec.register(`${topic}-value`, ORDER_AVRO_SCHEMA, 'avro');
      encode = (order) => codec.encode(schemaId, order);
    }

    const generator = new OrderGenerator({
      customers: config.DEMO_CUSTOMERS,
      outOfOrderRatio: config.DEMO_OUT_OF_ORDER_RATIO,
      maxDisorderMs: config.DEMO_MAX_DISORDER_MS,
      lateRatio: config.DEMO_LATE_RATIO,
      lateByMs: config.DEMO_LATE_BY_MS,
      malformedRatio: config.DEMO_MALFORMED_RATIO,
      seed,
    });
    const controller = new AbortController();
    let total = 0;
    const sentByKind: Record<string, number> = Object.fromEntries(EVENT_KINDS.map((k) => [k, 0]));
    const loop = async (): Promise<number> => {
      while (!controller.signal.aborted && (config.DEMO_COUNT === undefined || total < config.DEMO_COUNT)) {
        try {
          await runTraffic(
            { topic, rate: config.DEMO_RATE, maxBatch: config.DEMO_MAX_BATCH, ...(config.DEMO_COUNT === undefined ? {} : { count: config.DEMO_COUNT - total }) },
            {
              generator,
              encode,
              send: (records) => producer.send(records),
              now,
              sleep: abortableSleep,
              onSent: (batch) => {
                total += batch.length;
                for (const e of batch) {
                  events.inc({ kind: e.kind });
                  sentByKind[e.kind]!++;
                }
              },
            },
            controller.signal,
          );
        } catch (error) {
          failures.inc();
          if (!isRetriable(error)) {
            logger.error({ err: error }, 'produce failed and is not retriable; the demo producer stops sending');
            health.setReady('producer', false, errorMessage(error));
            throw error;
          }
          logger.warn({ err: error }, 'produce failed; retrying in 1 s');
          await abortableSleep(1_000, controller.signal);
        }
      }
      logger.info({ sent: total, byKind: sentByKind }, 'traffic stopped');
      return total;
    };
    const done = loop().then((sent) => ({ sent, countReached: config.DEMO_COUNT !== undefined && sent >= config.DEMO_COUNT }));
    done.catch(() => undefined); // handled by whoever awaits it; not an unhandled rejection meanwhile
    // Registered last so it runs first: stop generating, let the batch in flight finish, then disconnect.
    shutdown.register('traffic', async () => {
      controller.abort();
      await done.catch(() => undefined);
    });
    health.setReady('producer', true, `${config.DEMO_FORMAT} orders into ${topic} at ${config.DEMO_RATE === 0 ? 'max' : config.DEMO_RATE}/s`);
    logger.info(
      { topic, rate: config.DEMO_RATE, count: config.DEMO_COUNT, seed, format: config.DEMO_FORMAT, customers: config.DEMO_CUSTOMERS },
      'demo producer started',
    );
    return { seed, done };
  });
}
