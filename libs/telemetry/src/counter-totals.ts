/** The part of a prom-client `Counter` a push uses. */
export interface GrowingCounter {
  inc(value: number): void;
  labels(...values: string[]): { inc(value: number): void };
}

/**
 * `push(counter, total, ...labelValues)`: adds to that series the growth of `total` since the last
 * push of the same counter and label values (the first push adds all of it). A total below the last
 * one adds nothing and becomes the new baseline.
 */
export interface PushTotal {
  (counter: GrowingCounter, total: number, ...labelValues: string[]): void;
  /** One push per entry, for a counter with one label: label value → total (a plain object or a Map). */
  byLabel(counter: GrowingCounter, totals: Readonly<Record<string, number>> | ReadonlyMap<string, number>): void;
}

/**
 * Mirrors the plain, only-growing totals a pure core keeps (e.g. `handler.counters.dataIn`) into
 * Prometheus counters, so the core needs no metrics dependency: push every total after each unit of
 * work and the series grow by what the core counted since.
 */
export function counterTotals(): PushTotal {
  const last = new Map<GrowingCounter, Map<string, number>>();
  const push = (counter: GrowingCounter, total: number, ...labelValues: string[]): void => {
    let series = last.get(counter);
    if (series === undefined) last.set(counter, (series = new Map()));
    const key = labelValues.join('\u0000');
    const growth = total - (series.get(key) ?? 0);
    series.set(key, total);
    if (growth <= 0) return;
    if (labelValues.length === 0) counter.inc(growth);
    else counter.labels(...labelValues).inc(growth);
  };
  const byLabel: PushTotal['byLabel'] = (counter, totals) => {
    const entries = totals instanceof Map ? totals.entries() : Object.entries(totals);
    for (const [label, total] of entries) push(counter, total, label);
  };
  return Object.assign(push, { byLabel });
}

/**
 * `counterTotals` kept per source, e.g. per partition handler: a handler created again after a
 * rebalance starts from zero, and a dropped one is forgotten with it.
 */
export function counterTotalsBy<Source extends object>(): (source: Source) => PushTotal {
  const pushers = new WeakMap<Source, PushTotal>();
  return (source) => {
    let push = pushers.get(source);
    if (push === undefined) pushers.set(source, (push = counterTotals()));
    return push;
  };
}
