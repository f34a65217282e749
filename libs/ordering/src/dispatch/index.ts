export * from './first-accept-dispatcher.ts';
