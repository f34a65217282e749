/**
 * A slack estimator tells an event-time reorder buffer how long (in event-time units) to hold
 * events back: an event with time t may be released once the largest event time seen, clk,
 * satisfies t + slack <= clk.
 *
 * Contract:
 * - `observe` is called once per arriving event, in arrival order, before the buffer decides
 *   what to release. `value` is the event's numeric value for quality-driven estimators
 *   (1 when the stream is only counted).
 * - `slack` is never negative and never exceeds the estimator's configured maximum.
 */
export interface SlackEstimator {
  observe(eventTime: number, value: number): void;
  readonly slack: number;
}
