import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inspect } from 'node:util';
import { ConvoyError } from '@convoy/errors';
import { connectionFields } from './connection.ts';
import { bool, duration, int, list, secret, str } from './fields.ts';
import { describeSchema, loadConfig } from './load.ts';
import { Secret } from './secret.ts';

function problemsOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof ConvoyError);
    assert.equal(error.code, 'CONFIG_INVALID');
    assert.equal(error.retriable, false);
    return error.message;
  }
  assert.fail('expected loadConfig to throw');
}

const BROKERS = { KAFKA_BROKERS: 'localhost:9092' };

describe('loadConfig', () => {
  it('names the variable, the value it got and the form it accepts', () => {
    const message = problemsOf(() => loadConfig({ MERGER_GAP_TIMEOUT_MS: duration() }, { MERGER_GAP_TIMEOUT_MS: 'abc' }));
    assert.equal(
      message,
      'Invalid configuration (1 problem):\n  - MERGER_GAP_TIMEOUT_MS="abc" is not valid: expected a duration such as 500ms, 5s or 1m',
    );
  });

  it('reports every problem at once, in schema order', () => {
    const schema = { A: int({ min: 1, max: 10 }), B: bool(), C: str(), D: duration().default(5) };
    const message = problemsOf(() => loadConfig(schema, { A: '11', B: 'maybe', D: '5 parsecs' }));
    assert.equal(
      message,
      [
        'Invalid configuration (4 problems):',
        '  - A="11" is not valid: expected an integer from 1 to 10',
        '  - B="maybe" is not valid: expected true or false',
        '  - C is missing: expected a non-empty string',
        '  - D="5 parsecs" is not valid: expected a duration such as 500ms, 5s or 1m',
      ].join('\n'),
    );
  });

  it('lists the problems in the error context too', () => {
    try {
      loadConfig({ A: int(), B: int() }, { A: 'x' });
      assert.fail('expected a throw');
    } catch (error) {
      assert.ok(error instanceof ConvoyError);
      assert.deepEqual(error.context.problems, [
        { variable: 'A', message: 'A="x" is not valid: expected an integer' },
        { variable: 'B', message: 'B is missing: expected an integer' },
      ]);
    }
  });

  it('applies defaults, leaves optional fields undefined, trims and treats empty as unset', () => {
    const schema = { PORT: int().default(9464), NAME: str().optional(), TAGS: list().default(['x']), N: int() };
    const config = loadConfig(schema, { PORT: '', NAME: '   ', N: ' 42 ' });
    assert.deepEqual({ ...config }, { PORT: 9464, NAME: undefined, TAGS: ['x'], N: 42 });
  });

  it('returns a frozen object with frozen lists', () => {
    const config = loadConfig({ L: list(), N: int() }, { L: 'a,b', N: '1' });
    assert.ok(Object.isFrozen(config));
    assert.ok(Object.isFrozen(config.L));
    assert.throws(() => {
      (config as { N: number }).N = 2;
    }, TypeError);
  });

  it('ignores variables that are not in the schema', () => {
    assert.deepEqual({ ...loadConfig({ N: int() }, { N: '1', PATH: '/bin' }) }, { N: 1 });
  });

  it('truncates very long values in messages', () => {
    const message = problemsOf(() => loadConfig({ N: int() }, { N: 'x'.repeat(500) }));
    assert.equal(message, `Invalid configuration (1 problem):\n  - N="${'x'.repeat(120)}…" is not valid: expected an integer`);
  });
});

describe('secrets', () => {
  const schema = { ...connectionFields, TOKEN: secret() };
  const env = {
    ...BROKERS,
    KAFKA_SASL_MECHANISM: 'plain',
    KAFKA_SASL_USERNAME: 'convoy',
    KAFKA_SASL_PASSWORD: 'hunter2-sasl',
    TOKEN: 'hunter2-token',
  };

  it('are readable only through reveal()', () => {
    const config = loadConfig(schema, env);
    assert.ok(config.KAFKA_SASL_PASSWORD instanceof Secret);
    assert.equal(config.KAFKA_SASL_PASSWORD?.reveal(), 'hunter2-sasl');
    assert.equal(config.TOKEN.reveal(), 'hunter2-token');
  });

  it('never appear in JSON, inspect, String() or template literals', () => {
    const config = loadConfig(schema, env);
    const printed = [JSON.stringify(config), inspect(config, { depth: 5, showHidden: true }), String(config.TOKEN), `${config.TOKEN}`, `${config.TOKEN as unknown as string}x`];
    for (const text of printed) {
      assert.ok(!text.includes('hunter2'), text);
    }
    assert.equal(JSON.stringify({ t: config.TOKEN }), '{"t":"[redacted]"}');
    assert.equal(inspect(config.TOKEN), '[redacted]');
  });

  it('never appear in error messages or error context', () => {
    const strict = { PASSWORD: secret().check(() => 'PASSWORD is too weak') };
    try {
      loadConfig({ ...strict, N: int() }, { PASSWORD: 'hunter2', N: 'nope' });
      assert.fail('expected a throw');
    } catch (error) {
      assert.ok(error instanceof ConvoyError);
      assert.ok(!error.message.includes('hunter2'));
      assert.ok(!JSON.stringify(error.context).includes('hunter2'));
      assert.ok(!inspect(error, { depth: 5 }).includes('hunter2'));
    }
  });

  it('are shown as [redacted] when their text is invalid', () => {
    const guarded = { PASSWORD: secret().describe('a password without spaces') };
    const only = { PASSWORD: { ...guarded.PASSWORD, parse: () => ({ ok: false as const, detail: 'has a space' }) } };
    const message = problemsOf(() => loadConfig(only, { PASSWORD: 'hunter 2' }));
    assert.equal(message, 'Invalid configuration (1 problem):\n  - PASSWORD=[redacted] is not valid: expected a password without spaces');
  });
});

describe('connectionFields', () => {
  it('has working defaults with only KAFKA_BROKERS set', () => {
    const config = loadConfig(connectionFields, { KAFKA_BROKERS: 'k1:9092, k2:9092' });
    assert.deepEqual(JSON.parse(JSON.stringify(config)), {
      KAFKA_BROKERS: ['k1:9092', 'k2:9092'],
      KAFKA_CLIENT_ID: 'convoy',
      KAFKA_SSL: false,
      HTTP_HOST: '0.0.0.0',
      HTTP_PORT: 9464,
      LOG_LEVEL: 'info',
      KAFKA_SESSION_TIMEOUT_MS: 10_000,
      SHUTDOWN_TIMEOUT_MS: 25_000,
    });
    assert.equal(config.SCHEMA_REGISTRY_URL, undefined);
  });

  it('requires KAFKA_BROKERS', () => {
    assert.equal(
      problemsOf(() => loadConfig(connectionFields, {})),
      'Invalid configuration (1 problem):\n  - KAFKA_BROKERS is missing: expected a comma-separated list of host:port',
    );
  });

  it('requires username and password with a SASL mechanism', () => {
    assert.equal(
      problemsOf(() => loadConfig(connectionFields, { ...BROKERS, KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512' })),
      'Invalid configuration (1 problem):\n  - KAFKA_SASL_MECHANISM="scram-sha-512" needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD to be set',
    );
  });

  it('requires a SASL mechanism with credentials', () => {
    assert.equal(
      problemsOf(() => loadConfig(connectionFields, { ...BROKERS, KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'p' })),
      [
        'Invalid configuration (2 problems):',
        '  - KAFKA_SASL_USERNAME is set, so KAFKA_SASL_MECHANISM must be set too',
        '  - KAFKA_SASL_PASSWORD is set, so KAFKA_SASL_MECHANISM must be set too',
      ].join('\n'),
    );
  });

  it('does not stack a cross-field problem on top of a bad value it depends on', () => {
    assert.equal(
      problemsOf(() => loadConfig(connectionFields, { ...BROKERS, KAFKA_SASL_MECHANISM: 'kerberos', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'p' })),
      'Invalid configuration (1 problem):\n  - KAFKA_SASL_MECHANISM="kerberos" is not valid: expected one of plain, scram-sha-256, scram-sha-512',
    );
  });

  it('requires KAFKA_SSL for TLS files and a key with a certificate', () => {
    assert.equal(
      problemsOf(() => loadConfig(connectionFields, { ...BROKERS, KAFKA_TLS_CA_FILE: '/ca.pem', KAFKA_TLS_CERT_FILE: '/cert.pem' })),
      [
        'Invalid configuration (3 problems):',
        '  - KAFKA_TLS_CA_FILE is set, so KAFKA_SSL must be true',
        '  - KAFKA_TLS_CERT_FILE is set, so KAFKA_SSL must be true',
        '  - KAFKA_TLS_CERT_FILE is set, so KAFKA_TLS_KEY_FILE must be set too',
      ].join('\n'),
    );
    const config = loadConfig(connectionFields, { ...BROKERS, KAFKA_SSL: 'true', KAFKA_TLS_CERT_FILE: '/c', KAFKA_TLS_KEY_FILE: '/k' });
    assert.equal(config.KAFKA_TLS_KEY_FILE, '/k');
  });

  it('requires a registry URL and password with a registry username', () => {
    assert.equal(
      problemsOf(() => loadConfig(connectionFields, { ...BROKERS, SCHEMA_REGISTRY_USERNAME: 'u' })),
      'Invalid configuration (1 problem):\n  - SCHEMA_REGISTRY_USERNAME is set, so SCHEMA_REGISTRY_URL and SCHEMA_REGISTRY_PASSWORD must be set too',
    );
  });

  it('can be spread into a service schema and overridden', () => {
    const schema = { ...connectionFields, KAFKA_CLIENT_ID: str().default('convoy-merger'), MERGER_GAP_TIMEOUT_MS: duration().default(5000) };
    const config = loadConfig(schema, { ...BROKERS, MERGER_GAP_TIMEOUT_MS: '2s', LOG_LEVEL: 'DEBUG' });
    assert.equal(config.KAFKA_CLIENT_ID, 'convoy-merger');
    assert.equal(config.MERGER_GAP_TIMEOUT_MS, 2000);
    assert.equal(config.LOG_LEVEL, 'debug');
  });
});

describe('describeSchema', () => {
  it('prints one line per variable with its presence and form', () => {
    assert.equal(
      describeSchema({ KAFKA_BROKERS: connectionFields.KAFKA_BROKERS, PW: secret().default(new Secret('x')), T: duration().optional() }),
      [
        'KAFKA_BROKERS  required: a comma-separated list of host:port',
        'PW             default [redacted]: a non-empty secret',
        'T              optional: a duration such as 500ms, 5s or 1m',
      ].join('\n'),
    );
  });
});
