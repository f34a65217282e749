/**
 * TLS against the local stack's SSL, SASL_SSL and MTLS listeners (scripts/stack.sh, self-signed CA
 * in .stack/tls): Convoy's Kafka port configured only from env connects, produces and consumes;
 * without the CA, or without a client certificate where one is required, the broker is refused.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Kafka } from 'kafkajs';
import { connectionFields, loadConfig } from '@convoy/config';
import { kafkaConfigFrom } from '@convoy/kafka';
import { createLogger } from '@convoy/logging';
import { roundTrip, secureStack, secureStackMissing } from '../harness/secure-stack.ts';

const skip = await secureStackMissing();
const stack = secureStack();

test('TLS (KAFKA_SSL + KAFKA_TLS_CA_FILE): connect, produce and consume', { skip }, async () => {
  const values = ['t1', 't2', 't3'];
  assert.deepEqual(await roundTrip({ KAFKA_BROKERS: stack.sslBrokers, KAFKA_SSL: 'true', KAFKA_TLS_CA_FILE: stack.caFile }, values), values);
});

test('SASL_SSL: SCRAM-SHA-512 over TLS, connect, produce and consume', { skip }, async () => {
  const values = ['s1', 's2'];
  const env = {
    KAFKA_BROKERS: stack.saslSslBrokers,
    KAFKA_SSL: 'true',
    KAFKA_TLS_CA_FILE: stack.caFile,
    KAFKA_SASL_MECHANISM: 'scram-sha-512',
    KAFKA_SASL_USERNAME: stack.username,
    KAFKA_SASL_PASSWORD: stack.password,
  };
  assert.deepEqual(await roundTrip(env, values), values);
});

test('mutual TLS (KAFKA_TLS_CERT_FILE + KAFKA_TLS_KEY_FILE): connect, produce and consume where a client certificate is required', { skip }, async () => {
  const values = ['m1', 'm2'];
  const env = {
    KAFKA_BROKERS: stack.mtlsBrokers,
    KAFKA_SSL: 'true',
    KAFKA_TLS_CA_FILE: stack.caFile,
    KAFKA_TLS_CERT_FILE: stack.certFile,
    KAFKA_TLS_KEY_FILE: stack.keyFile,
  };
  assert.deepEqual(await roundTrip(env, values), values);
});

/** One connection attempt, no retries: the error kafkajs gives for this configuration. */
async function connectOnce(env: Record<string, string>): Promise<Error | undefined> {
  const config = kafkaConfigFrom(loadConfig(connectionFields, env), { logger: createLogger({ name: 't', level: 'silent' }), clientId: 'it-sec-tls' });
  const admin = new Kafka({ ...config, retry: { retries: 0 } }).admin();
  try {
    await admin.connect();
    await admin.describeCluster();
    return undefined;
  } catch (error) {
    return error as Error;
  } finally {
    await admin.disconnect();
  }
}

test('TLS without the stack CA: the self-signed broker certificate is refused', { skip }, async () => {
  const error = await connectOnce({ KAFKA_BROKERS: stack.sslBrokers, KAFKA_SSL: 'true' });
  assert.match(String(error?.message), /self-signed certificate in certificate chain/);
});

test('mutual TLS listener without a client certificate: refused', { skip }, async () => {
  const withoutCert = await connectOnce({ KAFKA_BROKERS: stack.mtlsBrokers, KAFKA_SSL: 'true', KAFKA_TLS_CA_FILE: stack.caFile });
  // TLS alert 42: the broker found no acceptable client certificate.
  assert.match(String(withoutCert?.message), /alert bad certificate/);
  // The same attempt with the client certificate succeeds: the refusal was the missing certificate.
  const withCert = await connectOnce({
    KAFKA_BROKERS: stack.mtlsBrokers,
    KAFKA_SSL: 'true',
    KAFKA_TLS_CA_FILE: stack.caFile,
    KAFKA_TLS_CERT_FILE: stack.certFile,
    KAFKA_TLS_KEY_FILE: stack.keyFile,
  });
  assert.equal(withCert, undefined);
});
