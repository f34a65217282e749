import type { SlackEstimator } from './slack-estimator.ts';
import { requireNonNegative } from './validate.ts';

/**
 * A constant slack: the classic K-slack of Babu, Srivastava and Widom with an a-priori disorder
 * bound K, or a plain reorder timeout in event-time units.
 *
 * Guarantee: `slack` is always exactly `k`; observations are ignored.
 */
export class FixedSlack implements SlackEstimator {
  readonly slack: number;

  constructor(k: number) {
    this.slack = requireNonNegative('k', k);
  }

  observe(_eventTime: number, _value: number): void {}
}
