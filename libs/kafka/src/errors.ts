import { ConvoyError } from '@convoy/errors';

/** Codes this port raises itself (kafkajs errors are classified into `KAFKA_<TYPE>` codes). */
export const KAFKA_TLS_FILE_UNREADABLE = 'KAFKA_TLS_FILE_UNREADABLE';
export const KAFKA_TOPIC_TOO_FEW_PARTITIONS = 'KAFKA_TOPIC_TOO_FEW_PARTITIONS';
export const KAFKA_TOPIC_NOT_READY = 'KAFKA_TOPIC_NOT_READY';
export const KAFKA_HANDLER_FAILED = 'KAFKA_HANDLER_FAILED';

interface KafkaLikeError {
  name?: unknown;
  type?: unknown;
  retriable?: unknown;
  message?: unknown;
  originalError?: unknown;
  cause?: unknown;
}

function asObject(error: unknown): KafkaLikeError | undefined {
  return typeof error === 'object' && error !== null ? (error as KafkaLikeError) : undefined;
}

/** `KafkaJSConnectionError` → `CONNECTION`, `KafkaJSRequestTimeoutError` → `REQUEST_TIMEOUT`. */
function nameToCode(name: string): string {
  const bare = name.replace(/^KafkaJS/, '').replace(/Error$/, '');
  const snake = bare.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
  return snake === '' ? 'ERROR' : snake;
}

/**
 * kafkajs marks these non-retriable, but they are transient: `GroupCoordinatorNotFound` is what
 * every broker answered "coordinator not available / loading / unreachable" for a while, e.g.
 * during and just after a broker restart (the group and transaction coordinators reload their
 * state). Retrying with backoff recovers; giving up would stop a healthy service.
 */
const TRANSIENT = new Set(['KafkaJSGroupCoordinatorNotFound']);
/**
 * kafkajs's one plain `Error`: a request on a broker whose connection was just lost and is not set up
 * again yet (seen in a transaction while the broker restarted). Transient like a connection error.
 */
const BROKER_NOT_CONNECTED = 'Broker not connected';

/**
 * Maps anything kafkajs throws to a `ConvoyError`:
 * - code `KAFKA_<protocol error type>` (`KAFKA_NOT_LEADER_FOR_PARTITION`, `KAFKA_PRODUCER_FENCED`) for
 *   broker errors, `KAFKA_<name>` (`KAFKA_CONNECTION`, `KAFKA_REQUEST_TIMEOUT`) for client errors;
 * - `retriable` is kafkajs's own flag, except for the transient errors above (retriable).
 * kafkajs wraps the last failure of an exhausted retry loop in `KafkaJSNumberOfRetriesExceeded`,
 * and an error its retrier gave up on at once in `KafkaJSNonRetriableError` (both never
 * retriable); we classify the wrapped error instead (so a wrapped coordinator-not-found during a
 * broker restart stays transient), because the error that exhausted the
 * client's retries (a broker that is down) is still worth retrying at our level, with our backoff.
 * A `ConvoyError` is returned as is; any other error becomes `KAFKA_UNKNOWN`, not retriable.
 */
export function classifyKafkaError(error: unknown): ConvoyError {
  if (error instanceof ConvoyError) return error;
  let current = asObject(error);
  for (let depth = 0; current !== undefined && depth < 5; depth++) {
    const wrapper = current.name === 'KafkaJSNumberOfRetriesExceeded' || current.name === 'KafkaJSNonRetriableError';
    if (wrapper && asObject(current.originalError ?? current.cause) !== undefined) {
      current = asObject(current.originalError ?? current.cause);
      continue;
    }
    break;
  }
  const message = typeof current?.message === 'string' ? current.message : String(error);
  if (current?.name === 'Error' && message === BROKER_NOT_CONNECTED) {
    return new ConvoyError('KAFKA_BROKER_NOT_CONNECTED', message, { retriable: true, cause: error, context: { kafkajsError: 'Error' } });
  }
  if (current === undefined || typeof current.name !== 'string' || !current.name.startsWith('KafkaJS')) {
    return new ConvoyError('KAFKA_UNKNOWN', message, { retriable: false, cause: error });
  }
  const code = typeof current.type === 'string' && current.type !== '' ? current.type : nameToCode(current.name);
  return new ConvoyError(`KAFKA_${code}`, message, {
    retriable: current.retriable === true || TRANSIENT.has(current.name),
    cause: error,
    context: { kafkajsError: current.name },
  });
}
