export type { SlackEstimator } from './slack-estimator.ts';
export { FixedSlack } from './fixed-slack.ts';
export { KSlack, type KSlackOptions } from './k-slack.ts';
export {
  AqKSlack,
  quantile,
  type AqKSlackOptions,
  type AqKSlackDiagnostics,
  type LateTupleTreatment,
} from './aq-k-slack.ts';
export { AlphaController, type AlphaControllerOptions } from './alpha-controller.ts';
export {
  coverageThreshold,
  sumCoverageRoot,
  type QualityAggregate,
  type WindowValueStats,
} from './coverage-threshold.ts';
export { inverseNormalCdf, twoSidedZ } from './inverse-normal.ts';
