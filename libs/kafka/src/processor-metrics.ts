import type { Counter, Gauge, Histogram, Metrics } from '@convoy/telemetry';

/** The partition processor's series (names get the registry's prefix). */
export interface ProcessorMetrics {
  recordsIn: Counter<'topic'>;
  recordsOut: Counter<'topic'>;
  transactions: Counter<'outcome'>;
  batchSeconds: Histogram<string>;
  lag: Gauge<'topic' | 'partition'>;
  rebalances: Counter<string>;
  assigned: Gauge<string>;
  fencedRejoins: Counter<string>;
  consumerRestarts: Counter<string>;
}

const byRegistry = new WeakMap<Metrics, ProcessorMetrics>();

/** One set per Metrics: two processors in one service share the series instead of colliding. */
export function processorMetrics(metrics: Metrics): ProcessorMetrics {
  let made = byRegistry.get(metrics);
  if (made === undefined) {
    made = {
      recordsIn: metrics.counter({ name: 'kafka_records_in_total', help: 'Records consumed and handed to the handler', labelNames: ['topic'] }),
      recordsOut: metrics.counter({ name: 'kafka_records_out_total', help: 'Records produced in committed transactions', labelNames: ['topic'] }),
      transactions: metrics.counter({ name: 'kafka_transactions_total', help: 'Transactions by outcome (committed, aborted)', labelNames: ['outcome'] }),
      batchSeconds: metrics.histogram({
        name: 'kafka_batch_duration_seconds',
        help: 'Time to process one fetched batch, handler and transaction included',
        buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      }),
      lag: metrics.gauge({ name: 'kafka_consumer_lag', help: 'High watermark minus committed offset, per owned partition', labelNames: ['topic', 'partition'] }),
      rebalances: metrics.counter({ name: 'kafka_rebalances_total', help: 'Consumer group joins (each one reassigns every partition)' }),
      assigned: metrics.gauge({ name: 'kafka_partitions_assigned', help: 'Input partitions owned by this member in the current group generation' }),
      fencedRejoins: metrics.counter({ name: 'kafka_fenced_rejoins_total', help: 'Group re-joins after our producer was fenced on a partition still assigned to us' }),
      consumerRestarts: metrics.counter({ name: 'kafka_consumer_restarts_total', help: 'Consumer restarts we made after a crash kafkajs would not restart (e.g. group coordinator not found while the broker was down)' }),
    };
    byRegistry.set(metrics, made);
  }
  return made;
}
