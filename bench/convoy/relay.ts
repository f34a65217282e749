/**
 * One stage of the benchmark's relay chain: the baseline the convoy is compared with. It copies
 * every record of RELAY_INPUT_TOPIC partition p to RELAY_OUTPUT_TOPIC partition p, key, value,
 * headers and timestamp unchanged, on the same transactional partition processor as the convoy's
 * services (one transaction per batch with the input offsets, `batch-end` commits, same batch size),
 * so the chain differs from the convoy only by what the convoy does per record.
 *
 * Run: KAFKA_BROKERS=… RELAY_INPUT_TOPIC=a RELAY_OUTPUT_TOPIC=b RELAY_GROUP_ID=g node bench/convoy/relay.ts
 * Readiness on HTTP_PORT (/readyz), like the services.
 */
import { connectionFields, int, loadConfig, str } from '../../libs/config/src/index.ts';
import { createKafkaClients, runPartitionProcessor } from '../../libs/kafka/src/index.ts';
import { createShutdown, installSignalHandlers, runService, shutdownAndExit } from '../../libs/lifecycle/src/index.ts';
import { createLogger } from '../../libs/logging/src/index.ts';
import { createHealth, createMetrics, startHttpServer } from '../../libs/telemetry/src/index.ts';

const schema = {
  ...connectionFields,
  KAFKA_CLIENT_ID: str().default('convoy-bench-relay'),
  RELAY_INPUT_TOPIC: str(),
  RELAY_OUTPUT_TOPIC: str(),
  RELAY_GROUP_ID: str(),
  RELAY_MAX_BATCH_RECORDS: int({ min: 1 }).default(5000),
};

await runService(async () => {
  const config = loadConfig(schema, process.env);
  const logger = createLogger({ name: 'relay', level: config.LOG_LEVEL });
  const shutdown = createShutdown({ logger: logger.child({ component: 'shutdown' }), timeoutMs: config.SHUTDOWN_TIMEOUT_MS });
  const metrics = createMetrics({ prefix: 'convoy_relay_', defaultLabels: { service: 'relay' } });
  const health = createHealth();
  const http = await startHttpServer({ port: config.HTTP_PORT, host: config.HTTP_HOST, registry: metrics.registry, health, logger: logger.child({ component: 'http' }) });
  shutdown.register('http', () => http.close());
  const clients = createKafkaClients(config, { logger, clientId: config.KAFKA_CLIENT_ID });
  shutdown.register('disconnect', () => clients.disconnect());
  const output = config.RELAY_OUTPUT_TOPIC;
  const processor = await runPartitionProcessor({
    clients,
    groupId: config.RELAY_GROUP_ID,
    topics: [config.RELAY_INPUT_TOPIC],
    transactionalIdPrefix: config.RELAY_GROUP_ID,
    handler: {
      onRecords(_tp, records, out) {
        for (const r of records) {
          out.send({ topic: output, partition: r.partition, key: r.key, value: r.value, headers: r.headers, timestamp: r.timestamp });
        }
      },
    },
    onFatal: (error) => {
      logger.error({ err: error }, 'relay partition failed');
      void shutdownAndExit(shutdown, 'fatal error', process, 1);
    },
    tickIntervalMs: 0,
    maxBatchRecords: config.RELAY_MAX_BATCH_RECORDS,
    logger,
    metrics,
    health,
  });
  shutdown.register('stop-processor', () => processor.stop());
  installSignalHandlers(shutdown, process, { logger });
});
