import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { CounterConfiguration, GaugeConfiguration, HistogramConfiguration } from 'prom-client';

export interface MetricsOptions {
  /** Prepended to every metric made through `counter/gauge/histogram`, e.g. 'convoy_merger_'. */
  prefix?: string;
  /** Labels on every series of this registry, e.g. `{ service: 'merger' }`. */
  defaultLabels?: Record<string, string>;
  /** Register prom-client's default Node metrics (process_*, nodejs_*). Default true. */
  defaultMetrics?: boolean;
}

type Unregistered<C> = Omit<C, 'registers'>;

/**
 * A fresh prom-client Registry owned by one service, never prom-client's global one, so two
 * services (or two tests) in one process never share or collide on series.
 * The default Node metrics keep their standard unprefixed names so stock dashboards work; the
 * `service` default label tells services apart. Registering a name twice throws.
 */
export interface Metrics {
  readonly registry: Registry;
  readonly prefix: string;
  counter<L extends string = string>(config: Unregistered<CounterConfiguration<L>>): Counter<L>;
  gauge<L extends string = string>(config: Unregistered<GaugeConfiguration<L>>): Gauge<L>;
  histogram<L extends string = string>(config: Unregistered<HistogramConfiguration<L>>): Histogram<L>;
  /**
   * Current value of a counter or gauge series (prefix added), or of a histogram's `_count`/`_sum`
   * series when asked by that full name. Undefined when no such series exists. Meant for tests.
   */
  value(name: string, labels?: Record<string, string | number>): Promise<number | undefined>;
}

export function createMetrics(options: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  const prefix = options.prefix ?? '';
  if (options.defaultLabels !== undefined) registry.setDefaultLabels(options.defaultLabels);
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });

  return {
    registry,
    prefix,
    counter: (config) => new Counter({ ...config, name: prefix + config.name, registers: [registry] }),
    gauge: (config) => new Gauge({ ...config, name: prefix + config.name, registers: [registry] }),
    histogram: (config) => new Histogram({ ...config, name: prefix + config.name, registers: [registry] }),
    async value(name, labels = {}) {
      const full = prefix + name;
      const base = full.replace(/_(count|sum)$/, '');
      const metric = registry.getSingleMetric(full) ?? registry.getSingleMetric(base);
      if (metric === undefined) return undefined;
      const { values } = await metric.get();
      const wanted = Object.entries(labels).map(([key, value]) => [key, String(value)] as const);
      const match = values.find((sample) => {
        const sampleName = (sample as { metricName?: string }).metricName ?? full;
        if (sampleName !== full) return false;
        const sampleLabels = sample.labels as Record<string, string | number | undefined>;
        const keys = Object.keys(sampleLabels).filter((key) => !(options.defaultLabels !== undefined && key in options.defaultLabels));
        return keys.length === wanted.length && wanted.every(([key, value]) => String(sampleLabels[key]) === value);
      });
      return match?.value;
    },
  };
}
