import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inspect } from 'node:util';
import { ConvoyError } from '@convoy/errors';
import { connectionFields } from './connection.ts';
import { loadConfig } from './load.ts';

const KAFKA_PASSWORD = 'kafka-Pw-0e5b77';
const REGISTRY_PASSWORD = 'registry-Pw-9a13d2';

describe('connection secrets', () => {
  it('KAFKA_SASL_PASSWORD and SCHEMA_REGISTRY_PASSWORD reach the client only through reveal()', () => {
    const config = loadConfig(connectionFields, {
      KAFKA_BROKERS: 'k:9093',
      KAFKA_SASL_MECHANISM: 'scram-sha-512',
      KAFKA_SASL_USERNAME: 'svc',
      KAFKA_SASL_PASSWORD: KAFKA_PASSWORD,
      SCHEMA_REGISTRY_URL: 'https://r/apis/ccompat/v7',
      SCHEMA_REGISTRY_USERNAME: 'svc',
      SCHEMA_REGISTRY_PASSWORD: REGISTRY_PASSWORD,
    });
    assert.equal(config.KAFKA_SASL_PASSWORD?.reveal(), KAFKA_PASSWORD);
    assert.equal(config.SCHEMA_REGISTRY_PASSWORD?.reveal(), REGISTRY_PASSWORD);
    for (const printed of [JSON.stringify(config), inspect(config, { depth: 5, showHidden: true }), `${config.KAFKA_SASL_PASSWORD}`]) {
      assert.equal(printed.includes('Pw-'), false, printed);
    }
    assert.equal(JSON.parse(JSON.stringify(config)).SCHEMA_REGISTRY_PASSWORD, '[redacted]');
  });

  it('passwords are kept verbatim (not trimmed): a secret may end in a space', () => {
    const config = loadConfig(connectionFields, { KAFKA_BROKERS: 'k:9093', KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'svc', KAFKA_SASL_PASSWORD: ' pw ' });
    assert.equal(config.KAFKA_SASL_PASSWORD?.reveal(), ' pw ');
  });

  it('a password set without the rest names the missing variables, never the password', () => {
    let error: unknown;
    try {
      loadConfig(connectionFields, { KAFKA_BROKERS: 'k:9093', KAFKA_SASL_PASSWORD: KAFKA_PASSWORD, SCHEMA_REGISTRY_PASSWORD: REGISTRY_PASSWORD });
    } catch (caught) {
      error = caught;
    }
    assert.ok(error instanceof ConvoyError);
    assert.equal(
      error.message,
      [
        'Invalid configuration (2 problems):',
        '  - KAFKA_SASL_PASSWORD is set, so KAFKA_SASL_MECHANISM must be set too',
        '  - SCHEMA_REGISTRY_PASSWORD is set, so SCHEMA_REGISTRY_USERNAME must be set too',
      ].join('\n'),
    );
    assert.equal(inspect(error, { depth: 10, showHidden: true }).includes('Pw-'), false);
  });
});
