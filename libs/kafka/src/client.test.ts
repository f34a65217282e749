import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { Secret } from '@convoy/config';
import { createLogger } from '@convoy/logging';
import { authenticationFailure, KAFKA_AUTHENTICATION_FAILED, kafkaConfigFrom, kafkajsLogCreator, type KafkaConnection } from './client.ts';
import { KAFKA_TLS_FILE_UNREADABLE } from './errors.ts';

function capture() {
  const lines: string[] = [];
  const destination = new Writable({ write(chunk, _enc, done) { lines.push(String(chunk)); done(); } });
  return { lines, logger: createLogger({ name: 't', level: 'debug', pretty: false, destination }) };
}

const base: KafkaConnection = {
  KAFKA_BROKERS: ['a:9092', 'b:9092'], KAFKA_SSL: false, KAFKA_SASL_MECHANISM: undefined, KAFKA_SASL_USERNAME: undefined,
  KAFKA_SASL_PASSWORD: undefined, KAFKA_TLS_CA_FILE: undefined, KAFKA_TLS_CERT_FILE: undefined, KAFKA_TLS_KEY_FILE: undefined,
};

test('plain connection: brokers, client id, retry, no ssl or sasl', () => {
  const config = kafkaConfigFrom(base, { logger: capture().logger, clientId: 'convoy-merger' });
  assert.deepEqual(config.brokers, ['a:9092', 'b:9092']);
  assert.equal(config.clientId, 'convoy-merger');
  assert.equal(config.ssl, undefined);
  assert.equal(config.sasl, undefined);
  assert.equal(config.retry?.retries, 10);
});

test('SASL scram-sha-512 over TLS with CA, cert and key files', () => {
  const files: Record<string, string> = { '/ca.pem': 'CA', '/cert.pem': 'CERT', '/key.pem': 'KEY' };
  const config = kafkaConfigFrom(
    { ...base, KAFKA_SSL: true, KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_USERNAME: 'svc', KAFKA_SASL_PASSWORD: new Secret('hunter2'),
      KAFKA_TLS_CA_FILE: '/ca.pem', KAFKA_TLS_CERT_FILE: '/cert.pem', KAFKA_TLS_KEY_FILE: '/key.pem' },
    { logger: capture().logger, clientId: 'c', readFile: (p) => Buffer.from(files[p]!) },
  );
  assert.deepEqual(config.sasl, { mechanism: 'scram-sha-512', username: 'svc', password: 'hunter2' });
  assert.deepEqual(config.ssl, { ca: [Buffer.from('CA')], cert: Buffer.from('CERT'), key: Buffer.from('KEY') });
  assert.equal(kafkaConfigFrom({ ...base, KAFKA_SSL: true }, { logger: capture().logger, clientId: 'c' }).ssl, true);
});

test('an unreadable TLS file is a coded error naming the variable', () => {
  assert.throws(
    () => kafkaConfigFrom({ ...base, KAFKA_SSL: true, KAFKA_TLS_CA_FILE: '/nope/ca.pem' }, { logger: capture().logger, clientId: 'c' }),
    (e: { code: string; context: { variable: string }; message: string }) =>
      e.code === KAFKA_TLS_FILE_UNREADABLE && e.context.variable === 'KAFKA_TLS_CA_FILE' && e.message.startsWith('KAFKA_TLS_CA_FILE="/nope/ca.pem"'),
  );
});

test('kafkajs log lines go to pino with their namespace; secrets never show', () => {
  const { lines, logger } = capture();
  const config = kafkaConfigFrom(
    { ...base, KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'svc', KAFKA_SASL_PASSWORD: new Secret('hunter2') },
    { logger, clientId: 'c' },
  );
  const log = kafkajsLogCreator(logger)();
  log({ namespace: 'Connection', level: 1, label: 'ERROR', log: { timestamp: 'x', message: 'Connection error', broker: 'a:9092', sasl: config.sasl } });
  logger.info({ config }, 'config');
  assert.equal(lines.length, 2);
  const entry = JSON.parse(lines[0]!);
  assert.deepEqual([entry.level, entry.namespace, entry.component, entry.msg, entry.broker], [50, 'Connection', 'kafkajs', 'Connection error', 'a:9092']);
  assert.ok(!lines.join('').includes('hunter2'), lines.join(''));
});

test('a SASL failure, even wrapped in exhausted retries, becomes KAFKA_AUTHENTICATION_FAILED naming the settings', () => {
  const sasl = Object.assign(new Error('SASL PLAIN authentication failed: Authentication failed: Invalid username or password'), { name: 'KafkaJSSASLAuthenticationError', retriable: false });
  const wrapped = Object.assign(new Error('retries exhausted'), { name: 'KafkaJSNumberOfRetriesExceeded', originalError: sasl });
  const error = authenticationFailure(wrapped, { mechanism: 'plain', username: 'svc' });
  assert.equal(error?.code, KAFKA_AUTHENTICATION_FAILED);
  assert.equal(error?.retriable, false);
  assert.equal(
    error?.message,
    'the Kafka broker rejected the SASL credentials (KAFKA_SASL_MECHANISM=plain, KAFKA_SASL_USERNAME="svc"): check KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD ' +
      '(SASL PLAIN authentication failed: Authentication failed: Invalid username or password)',
  );
  assert.equal(authenticationFailure(Object.assign(new Error('Connection error'), { name: 'KafkaJSConnectionError' }), undefined), undefined);
  assert.equal(authenticationFailure('not an error', undefined), undefined);
});
