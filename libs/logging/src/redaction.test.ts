import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { connectionFields, loadConfig } from '@convoy/config';
import { createLogger } from './index.ts';

function capture() {
  let text = '';
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text += chunk.toString();
      done();
    },
  });
  return { logger: createLogger({ name: 'svc', level: 'debug', destination }), text: () => text };
}

const env = {
  KAFKA_BROKERS: 'kafka-0:9093',
  KAFKA_SSL: 'true',
  KAFKA_SASL_MECHANISM: 'scram-sha-512',
  KAFKA_SASL_USERNAME: 'convoy-svc',
  KAFKA_SASL_PASSWORD: 'sasl-Pw-81f0e2',
  SCHEMA_REGISTRY_URL: 'https://registry:8081/apis/ccompat/v7',
  SCHEMA_REGISTRY_USERNAME: 'convoy-svc',
  SCHEMA_REGISTRY_PASSWORD: 'registry-Pw-c44a19',
};

describe('redaction of connection secrets', () => {
  it('a parsed config dumped at start shows every setting but the passwords', () => {
    const out = capture();
    out.logger.info({ config: loadConfig(connectionFields, env) }, 'starting');
    const line = JSON.parse(out.text()) as { config: Record<string, unknown> };
    assert.equal(line.config['KAFKA_SASL_PASSWORD'], '[redacted]');
    assert.equal(line.config['SCHEMA_REGISTRY_PASSWORD'], '[redacted]');
    assert.equal(line.config['KAFKA_SASL_USERNAME'], 'convoy-svc');
    assert.deepEqual(line.config['KAFKA_BROKERS'], ['kafka-0:9093']);
    assert.equal(out.text().includes('Pw-'), false, out.text());
  });

  it('a raw environment, a Headers-style Authorization and a kafkajs config are redacted too', () => {
    const out = capture();
    const basic = `Basic ${Buffer.from('convoy-svc:registry-Pw-c44a19').toString('base64')}`;
    out.logger.debug({ env, request: { headers: { Authorization: basic } }, kafka: { sasl: { mechanism: 'plain', username: 'u', password: 'sasl-Pw-81f0e2' } } }, 'dump');
    const line = JSON.parse(out.text()) as { env: Record<string, string>; request: { headers: Record<string, string> }; kafka: Record<string, unknown> };
    assert.equal(line.env['KAFKA_SASL_PASSWORD'], '[redacted]');
    assert.equal(line.env['SCHEMA_REGISTRY_PASSWORD'], '[redacted]');
    assert.equal(line.env['KAFKA_SASL_USERNAME'], 'convoy-svc');
    assert.equal(line.request.headers['Authorization'], '[redacted]');
    assert.equal(line.kafka['sasl'], '[redacted]');
    for (const leaked of ['Pw-', basic.slice(6)]) assert.equal(out.text().includes(leaked), false, `${leaked} in ${out.text()}`);
  });

  it('a Secret stays redacted below the three levels the key paths reach', () => {
    const out = capture();
    const config = loadConfig(connectionFields, env);
    out.logger.info({ a: { b: { c: { d: config.KAFKA_SASL_PASSWORD } } } }, 'deep');
    assert.equal((JSON.parse(out.text()) as { a: { b: { c: { d: string } } } }).a.b.c.d, '[redacted]');
  });
});
