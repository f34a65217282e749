export * from './slack/index.ts';
export * from './watermark/index.ts';
export * from './reorder/index.ts';
export * from './merge/index.ts';
export * from './window/index.ts';
export * from './dispatch/index.ts';
