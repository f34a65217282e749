import type { Processor } from '../processor.ts';

/** Passes every event through unchanged: same key, same payload bytes, same headers. */
export const identityProcessor: Processor = (event) => ({ value: event.value });
