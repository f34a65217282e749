export type { InputPosition, Origin, PartitionVerdict, ReadRecord, TextHeaders, Verdict, VerdictInput } from './verdict.ts';
export { computeVerdict, deadLetterOrigin, isFinal, MAX_EXAMPLES, stampedOrigin } from './verdict.ts';
export { formatTable, formatVerdict } from './format.ts';
