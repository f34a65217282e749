export * from './window-assigner.ts';
export * from './window-aggregate.ts';
export * from './window-result-key.ts';
export * from './windowed-aggregator.ts';
