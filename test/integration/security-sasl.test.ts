/**
 * SASL against the local stack's SASL_PLAINTEXT listener (scripts/stack.sh): a real service
 * configured only through its environment moves records with SCRAM-SHA-512; refused credentials
 * end the service at start with a non-retriable error that names the settings, not the password;
 * PLAIN and SCRAM-SHA-256 connect, produce and consume through Convoy's Kafka port.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CapturedService, leakedForms, roundTrip, secureStack, secureStackMissing } from '../harness/secure-stack.ts';
import { uniqueName } from '../harness/stack.ts';
import { createTopics, deleteGroups, deleteTopics, produce, readTopic } from '../harness/topics.ts';

const skip = await secureStackMissing();
const stack = secureStack();

// Kafka's murmur2 vectors, 4 sub-streams: "21" → 0, "foobar" → 2, "abc" → 3.
const PARTITION_OF: Record<string, number> = { '21': 0, foobar: 2, abc: 3 };

function splitterEnv(topics: { input: string; substreams: string; dlq: string; group: string }): Record<string, string> {
  return {
    LOG_LEVEL: 'debug',
    KAFKA_SESSION_TIMEOUT_MS: '6000',
    SPLITTER_INPUT_TOPIC: topics.input,
    SPLITTER_SUBSTREAMS_TOPIC: topics.substreams,
    SPLITTER_SUBSTREAMS: '4',
    SPLITTER_DLQ_TOPIC: topics.dlq,
    SPLITTER_GROUP_ID: topics.group,
    SPLITTER_TRANSACTIONAL_ID_PREFIX: topics.group,
  };
}

test('SCRAM-SHA-512: the splitter, configured only through env, moves records end to end; its debug output never holds the password', { skip }, async (t) => {
  const topics = { input: uniqueName('it-sec-in'), substreams: uniqueName('it-sec-subs'), dlq: uniqueName('it-sec-dlq'), group: uniqueName('it-sec-group') };
  await createTopics([{ topic: topics.input, partitions: 1 }]);
  t.after(async () => {
    await deleteTopics([topics.input, topics.substreams, topics.dlq, `${topics.substreams}.splitter-state`]);
    await deleteGroups([topics.group]);
  });
  await produce(topics.input, [
    { key: '21', value: '{"n":0}' },
    { key: 'foobar', value: '{"n":1}' },
    { key: 'abc', value: '{"n":2}' },
  ]);

  const splitter = await CapturedService.start('splitter', {
    ...splitterEnv(topics),
    KAFKA_BROKERS: stack.saslBrokers,
    KAFKA_SASL_MECHANISM: 'scram-sha-512',
    KAFKA_SASL_USERNAME: stack.username,
    KAFKA_SASL_PASSWORD: stack.password,
  });
  t.after(() => splitter.stop());
  await splitter.ready();

  const records = await readTopic(topics.substreams, {
    until: (rs) => rs.filter((r) => r.headers['convoy-kind'] === 'data').length >= 3,
    timeoutMs: 60_000,
  });
  const data = records
    .filter((r) => r.headers['convoy-kind'] === 'data')
    .map((r) => ({ partition: r.partition, key: r.key, value: r.value?.toString(), seq: r.headers['convoy-seq'] }))
    .sort((a, b) => Number(a.seq) - Number(b.seq));
  assert.deepEqual(data, [
    { partition: PARTITION_OF['21'], key: '21', value: '{"n":0}', seq: '0' },
    { partition: PARTITION_OF['foobar'], key: 'foobar', value: '{"n":1}', seq: '1' },
    { partition: PARTITION_OF['abc'], key: 'abc', value: '{"n":2}', seq: '2' },
  ]);

  await splitter.stop();
  const output = splitter.output;
  // The run really was at debug level and really went through SCRAM: the checks below are not vacuous.
  assert.match(output, /"namespace":"SaslAuthenticator-SCRAM-SHA-512"/);
  assert.match(output, /"level":20,/);
  assert.deepEqual(leakedForms(output, stack.username, stack.password), []);
});

test('SCRAM-SHA-512 with a wrong password: the service exits at start with KAFKA_AUTHENTICATION_FAILED naming the settings, never the password', { skip }, async (t) => {
  const wrong = 'Wr0ng-Pa55w0rd-q7Zx';
  const topics = { input: uniqueName('it-sec-in'), substreams: uniqueName('it-sec-subs'), dlq: uniqueName('it-sec-dlq'), group: uniqueName('it-sec-group') };
  await createTopics([{ topic: topics.input, partitions: 1 }]);
  t.after(() => deleteTopics([topics.input]));
  const splitter = await CapturedService.start('splitter', {
    ...splitterEnv(topics),
    KAFKA_BROKERS: stack.saslBrokers,
    KAFKA_SASL_MECHANISM: 'scram-sha-512',
    KAFKA_SASL_USERNAME: stack.username,
    KAFKA_SASL_PASSWORD: wrong,
  });
  t.after(() => splitter.stop());
  // Refused credentials are not retried: well before the 60 s a missing input topic would wait.
  const code = await splitter.exited(45_000);
  const output = splitter.output;
  assert.equal(code, 1, output.slice(-3000));
  const fatal = output.split('\n').find((line) => line.startsWith('fatal: '));
  assert.equal(
    fatal,
    'fatal: KAFKA_AUTHENTICATION_FAILED: ConvoyError: the Kafka broker rejected the SASL credentials ' +
      `(KAFKA_SASL_MECHANISM=scram-sha-512, KAFKA_SASL_USERNAME="${stack.username}"): check KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD ` +
      '(SASL SCRAM SHA512 authentication failed: Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512)',
  );
  assert.match(output, /retriable: false/);
  assert.deepEqual(leakedForms(output, stack.username, wrong), []);
  // Nothing was created with refused credentials.
  assert.equal(output.includes('created topics'), false);
});

for (const mechanism of ['plain', 'scram-sha-256'] as const) {
  test(`${mechanism.toUpperCase()}: connect, produce and consume through the Kafka port, configured only from env`, { skip }, async () => {
    const values = ['a', 'b', 'c'];
    const got = await roundTrip(
      { KAFKA_BROKERS: stack.saslBrokers, KAFKA_SASL_MECHANISM: mechanism, KAFKA_SASL_USERNAME: stack.username, KAFKA_SASL_PASSWORD: stack.password },
      values,
    );
    assert.deepEqual(got, values);
  });
}

test('PLAIN with a wrong password is refused as KAFKA_AUTHENTICATION_FAILED', { skip }, async () => {
  await assert.rejects(
    roundTrip({ KAFKA_BROKERS: stack.saslBrokers, KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: stack.username, KAFKA_SASL_PASSWORD: 'nope-Plain-8c2' }, ['x']),
    (error: { code?: string; message: string }) => {
      assert.equal(error.code, 'KAFKA_AUTHENTICATION_FAILED');
      assert.match(error.message, /Authentication failed: Invalid username or password/);
      assert.equal(error.message.includes('nope-Plain-8c2'), false);
      return true;
    },
  );
});
