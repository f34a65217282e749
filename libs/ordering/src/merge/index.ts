export {
  ConvoyMerge,
  type ConvoyMergeCounters,
  type ConvoyMergeOptions,
  type ProgressMarker,
} from './convoy-merge.ts';
