import assert from 'node:assert/strict';
import { test } from 'node:test';
import kafkajs from 'kafkajs';
import { ConvoyError } from '@convoy/errors';
import { classifyKafkaError } from './errors.ts';

// kafkajs is CommonJS and its error classes are not detectable as named exports.
const { KafkaJSConnectionError, KafkaJSNumberOfRetriesExceeded, KafkaJSProtocolError, KafkaJSRequestTimeoutError } = kafkajs;

test('protocol errors get KAFKA_<type> and kafkajs retriable flag', () => {
  const notLeader = new KafkaJSProtocolError({ type: 'NOT_LEADER_FOR_PARTITION', code: 6, retriable: true, message: 'not leader' } as never);
  const e = classifyKafkaError(notLeader);
  assert.equal(e.code, 'KAFKA_NOT_LEADER_FOR_PARTITION');
  assert.equal(e.retriable, true);
  const fenced = classifyKafkaError(new KafkaJSProtocolError({ type: 'PRODUCER_FENCED', code: 90, retriable: false, message: 'fenced' } as never));
  assert.deepEqual([fenced.code, fenced.retriable], ['KAFKA_PRODUCER_FENCED', false]);
});

test('client errors get KAFKA_<name>', () => {
  const conn = classifyKafkaError(new KafkaJSConnectionError('Connection refused', { broker: 'b:9092' } as never));
  assert.deepEqual([conn.code, conn.retriable], ['KAFKA_CONNECTION', true]);
  const timeout = classifyKafkaError(new KafkaJSRequestTimeoutError('timed out', {} as never));
  assert.deepEqual([timeout.code, timeout.retriable], ['KAFKA_REQUEST_TIMEOUT', true]);
});

test('exhausted retries are classified by the error that exhausted them', () => {
  const inner = new KafkaJSConnectionError('Connection refused', { broker: 'b:9092' } as never);
  const outer = new KafkaJSNumberOfRetriesExceeded(inner, { retryCount: 10, retryTime: 30000 });
  const e = classifyKafkaError(outer);
  assert.deepEqual([e.code, e.retriable], ['KAFKA_CONNECTION', true]);
});

test('ConvoyErrors pass through; anything else is KAFKA_UNKNOWN, not retriable', () => {
  const own = new ConvoyError('X', 'x', { retriable: true });
  assert.equal(classifyKafkaError(own), own);
  const e = classifyKafkaError(new TypeError('boom'));
  assert.deepEqual([e.code, e.retriable, e.message], ['KAFKA_UNKNOWN', false, 'boom']);
});

test('a group coordinator not found (broker restarting, coordinator loading) is retriable, though kafkajs says otherwise', () => {
  const { KafkaJSGroupCoordinatorNotFound } = kafkajs as unknown as { KafkaJSGroupCoordinatorNotFound: new (message: string) => Error };
  const e = classifyKafkaError(new KafkaJSGroupCoordinatorNotFound('Failed to find group coordinator'));
  assert.deepEqual([e.code, e.retriable], ['KAFKA_GROUP_COORDINATOR_NOT_FOUND', true]);
});

test('an error kafkajs gave up on at once (KafkaJSNonRetriableError) is classified by what it wraps', () => {
  const k = kafkajs as unknown as {
    KafkaJSGroupCoordinatorNotFound: new (message: string) => Error;
    KafkaJSNonRetriableError: new (e: Error, options: { cause: Error }) => Error;
  };
  const inner = new k.KafkaJSGroupCoordinatorNotFound('Failed to find group coordinator');
  const transient = classifyKafkaError(new k.KafkaJSNonRetriableError(inner, { cause: inner }));
  assert.deepEqual([transient.code, transient.retriable], ['KAFKA_GROUP_COORDINATOR_NOT_FOUND', true]);
  const fencedInner = new KafkaJSProtocolError({ type: 'PRODUCER_FENCED', code: 90, retriable: false, message: 'fenced' } as never);
  const fenced = classifyKafkaError(new k.KafkaJSNonRetriableError(fencedInner, { cause: fencedInner }));
  assert.deepEqual([fenced.code, fenced.retriable], ['KAFKA_PRODUCER_FENCED', false]);
});

test("kafkajs's plain 'Broker not connected' (a connection lost mid-request) is retriable, bare or wrapped; other plain errors are not", () => {
  const bare = classifyKafkaError(new Error('Broker not connected'));
  assert.deepEqual([bare.code, bare.retriable], ['KAFKA_BROKER_NOT_CONNECTED', true]);
  const inner = new Error('Broker not connected');
  const wrapped = classifyKafkaError(new KafkaJSNumberOfRetriesExceeded(inner, { retryCount: 5, retryTime: 3000, cause: inner } as never));
  assert.deepEqual([wrapped.code, wrapped.retriable], ['KAFKA_BROKER_NOT_CONNECTED', true]);
  const other = classifyKafkaError(new Error('Broker not connected yet'));
  assert.deepEqual([other.code, other.retriable], ['KAFKA_UNKNOWN', false]);
});
