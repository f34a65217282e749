/**
 * The aggregate of one window: count of events and sum / min / max of their values. A window
 * exists only once an event was counted in it, so count >= 1 and min/max are always finite.
 * Plain data: JSON round-trips it exactly.
 */
export interface WindowAggregate {
  count: number;
  sum: number;
  min: number;
  max: number;
}

export function aggregateOf(value: number): WindowAggregate {
  return { count: 1, sum: value, min: value, max: value };
}

/** Adds one value in place. */
export function addToAggregate(aggregate: WindowAggregate, value: number): void {
  aggregate.count += 1;
  aggregate.sum += value;
  if (value < aggregate.min) aggregate.min = value;
  if (value > aggregate.max) aggregate.max = value;
}

export function copyAggregate(aggregate: WindowAggregate): WindowAggregate {
  return { count: aggregate.count, sum: aggregate.sum, min: aggregate.min, max: aggregate.max };
}
