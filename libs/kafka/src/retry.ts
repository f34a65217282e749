import { setTimeout as sleep } from 'node:timers/promises';
import type { ConvoyError } from '@convoy/errors';
import type { Logger } from '@convoy/logging';
import { classifyKafkaError } from './errors.ts';

export interface KafkaRetryOptions {
  /** Retriable failures are retried until this long has passed since the first one. */
  windowMs: number;
  logger?: Logger;
  /** Injected for tests. Default `Date.now`. */
  now?: () => number;
  /** Injected for tests. Default a timer. */
  wait?: (ms: number) => Promise<unknown>;
}

/** Backoff before retry `attempt` (1-based): 250 ms doubling, at most 5 s. */
export function kafkaRetryBackoffMs(attempt: number): number {
  return Math.min(5_000, 250 * 2 ** (attempt - 1));
}

/**
 * Runs `attempt` until it succeeds. A failure that `classifyKafkaError` calls retriable (a leader
 * moving, a coordinator loading, a broker restarting) is retried after `kafkaRetryBackoffMs`, for as
 * long as `windowMs` since the first failure; a non-retriable one, or one past the window, is thrown
 * as a `ConvoyError` at once. `attempt` must be safe to repeat (a read, a connect).
 */
export async function withKafkaRetry<T>(what: string, attempt: () => Promise<T>, options: KafkaRetryOptions): Promise<T> {
  const now = options.now ?? Date.now;
  const wait = options.wait ?? sleep;
  let firstFailure: number | undefined;
  for (let failures = 1; ; failures++) {
    try {
      return await attempt();
    } catch (error) {
      const classified: ConvoyError = classifyKafkaError(error);
      firstFailure ??= now();
      if (!classified.retriable || now() - firstFailure >= options.windowMs) throw classified;
      const backoffMs = kafkaRetryBackoffMs(failures);
      options.logger?.warn({ code: classified.code, attempt: failures, backoffMs }, `${what} failed, retrying`);
      await wait(backoffMs);
    }
  }
}
