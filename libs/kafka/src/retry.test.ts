import assert from 'node:assert/strict';
import { test } from 'node:test';
import kafkajs from 'kafkajs';
import { ConvoyError } from '@convoy/errors';
import { kafkaRetryBackoffMs, withKafkaRetry } from './retry.ts';

const { KafkaJSProtocolError } = kafkajs;
const notLeader = () => new KafkaJSProtocolError({ type: 'NOT_LEADER_FOR_PARTITION', code: 6, retriable: true, message: 'not leader' } as never);

/** A fake clock that advances only when the retry loop waits. */
function fakeTime() {
  let t = 1_000;
  const waits: number[] = [];
  return {
    now: () => t,
    wait: async (ms: number) => {
      waits.push(ms);
      t += ms;
    },
    waits,
  };
}

test('backoff: 250 ms doubling, capped at 5 s', () => {
  assert.deepEqual([1, 2, 3, 4, 5, 6, 7].map(kafkaRetryBackoffMs), [250, 500, 1000, 2000, 4000, 5000, 5000]);
});

test('retriable failures are retried with backoff until the attempt succeeds', async () => {
  const time = fakeTime();
  let calls = 0;
  const value = await withKafkaRetry(
    'read',
    async () => {
      calls++;
      if (calls <= 3) throw notLeader();
      return 'tail';
    },
    { windowMs: 60_000, now: time.now, wait: time.wait },
  );
  assert.equal(value, 'tail');
  assert.equal(calls, 4);
  assert.deepEqual(time.waits, [250, 500, 1000]);
});

test('a non-retriable failure is thrown at once, classified', async () => {
  const time = fakeTime();
  let calls = 0;
  const fenced = new KafkaJSProtocolError({ type: 'PRODUCER_FENCED', code: 90, retriable: false, message: 'fenced' } as never);
  await assert.rejects(
    withKafkaRetry('init', async () => {
      calls++;
      throw fenced;
    }, { windowMs: 60_000, now: time.now, wait: time.wait }),
    (error: unknown) => error instanceof ConvoyError && error.code === 'KAFKA_PRODUCER_FENCED' && !error.retriable,
  );
  assert.equal(calls, 1);
  assert.deepEqual(time.waits, []);
});

test('retriable failures past the window are thrown: the last one, still marked retriable', async () => {
  const time = fakeTime();
  let calls = 0;
  await assert.rejects(
    withKafkaRetry('read', async () => {
      calls++;
      throw notLeader();
    }, { windowMs: 10_000, now: time.now, wait: time.wait }),
    (error: unknown) => error instanceof ConvoyError && error.code === 'KAFKA_NOT_LEADER_FOR_PARTITION' && error.retriable,
  );
  // waits 250+500+1000+2000+4000 = 7,750 ms < 10 s, then 5,000 more reaches 12,750 ≥ 10 s: 7 calls.
  assert.deepEqual(time.waits, [250, 500, 1000, 2000, 4000, 5000]);
  assert.equal(calls, 7);
});
