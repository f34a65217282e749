export type { Metrics, MetricsOptions } from './metrics.ts';
export { createMetrics } from './metrics.ts';
export type { ReadinessCheck, ReadinessReport } from './health.ts';
export { createHealth, Health } from './health.ts';
export type { HttpLogger, HttpServerOptions, RunningHttpServer } from './http-server.ts';
export { HTTP_LISTEN_FAILED, startHttpServer } from './http-server.ts';
export type { Counter, Gauge, Histogram, Registry } from 'prom-client';
export type { GrowingCounter, PushTotal } from './counter-totals.ts';
export { counterTotals, counterTotalsBy } from './counter-totals.ts';
