/**
 * Credentials stay out of output: a service process with distinctive passwords and a bad
 * configuration prints the variable names, never the values (nor their base64); the schema
 * registry client sends HTTP basic auth from SCHEMA_REGISTRY_USERNAME/PASSWORD (checked by a
 * local proxy in front of the real registry, since the stack's Apicurio runs without auth) and a
 * refused credential is a coded error without the password.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import { once } from 'node:events';
import { test } from 'node:test';
import { inspect } from 'node:util';
import { createCodec, registryOptionsFrom } from '@convoy/codecs';
import { connectionFields, loadConfig } from '@convoy/config';
import { CapturedService, leakedForms } from '../harness/secure-stack.ts';
import { testStack, uniqueName } from '../harness/stack.ts';

const KAFKA_PASSWORD = 'kafka-Secret-9d41e7';
const REGISTRY_PASSWORD = 'registry-Secret-5b20c3';

async function failedStart(env: Record<string, string>): Promise<{ code: number | null | undefined; output: string }> {
  const service = await CapturedService.start('splitter', { LOG_LEVEL: 'debug', ...env });
  try {
    return { code: await service.exited(30_000), output: service.output };
  } finally {
    await service.stop();
  }
}

test('bad configuration with secrets set: every problem names its variable, no secret value is printed', async () => {
  const { code, output } = await failedStart({
    KAFKA_BROKERS: '127.0.0.1:9',
    KAFKA_SASL_MECHANISM: 'scram-sha-1',
    KAFKA_SASL_USERNAME: 'svc',
    KAFKA_SASL_PASSWORD: KAFKA_PASSWORD,
    SCHEMA_REGISTRY_PASSWORD: REGISTRY_PASSWORD,
  });
  assert.equal(code, 1);
  assert.equal(
    output,
    [
      'Invalid configuration (2 problems):',
      '  - KAFKA_SASL_MECHANISM="scram-sha-1" is not valid: expected one of plain, scram-sha-256, scram-sha-512',
      '  - SCHEMA_REGISTRY_PASSWORD is set, so SCHEMA_REGISTRY_USERNAME must be set too',
      '',
    ].join('\n'),
  );
  assert.deepEqual(leakedForms(output, 'svc', KAFKA_PASSWORD), []);
});

test('an unreadable TLS file with SASL credentials set: KAFKA_TLS_FILE_UNREADABLE names the variable, the password never shows', async () => {
  const { code, output } = await failedStart({
    KAFKA_BROKERS: '127.0.0.1:9',
    KAFKA_SSL: 'true',
    KAFKA_TLS_CA_FILE: '/nonexistent/convoy-ca.pem',
    KAFKA_SASL_MECHANISM: 'scram-sha-512',
    KAFKA_SASL_USERNAME: 'svc',
    KAFKA_SASL_PASSWORD: KAFKA_PASSWORD,
  });
  assert.equal(code, 1);
  assert.match(output, /^fatal: KAFKA_TLS_FILE_UNREADABLE: ConvoyError: KAFKA_TLS_CA_FILE="\/nonexistent\/convoy-ca.pem" cannot be read: ENOENT/m);
  assert.deepEqual(leakedForms(output, 'svc', KAFKA_PASSWORD), []);
});

/** An HTTP proxy in front of the real registry that lets through only `username:password` basic auth. */
async function basicAuthProxy(upstream: string, username: string, password: string) {
  const expected = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
  const seen: (string | undefined)[] = [];
  const body = async (req: IncomingMessage) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  };
  const upstreamUrl = new URL(upstream);
  const server = createServer((req, res) => {
    seen.push(req.headers.authorization);
    if (req.headers.authorization !== expected) {
      res.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Basic realm="convoy-test"' });
      res.end('{"error_code":401,"message":"Unauthorized"}');
      return;
    }
    void body(req).then(async (payload) => {
      const path = (req.url ?? '/').replace(/^\/apis\/ccompat\/v7/, '');
      const answer = await fetch(`${upstreamUrl.origin}${upstreamUrl.pathname}${path}`, {
        method: req.method ?? 'GET',
        headers: { 'content-type': req.headers['content-type'] ?? 'application/json', accept: req.headers.accept ?? '*/*' },
        ...(payload.length > 0 ? { body: payload } : {}),
      });
      res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' });
      res.end(Buffer.from(await answer.arrayBuffer()));
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}/apis/ccompat/v7`, expected, seen, close: () => server.close() };
}

test('schema registry basic auth from SCHEMA_REGISTRY_USERNAME/PASSWORD: accepted credentials round-trip Avro, refused ones are CODEC_REGISTRY_UNAUTHORIZED without the password', async (t) => {
  const upstream = testStack().registryUrl;
  if (upstream === undefined) return t.skip('no SCHEMA_REGISTRY_URL');
  const proxy = await basicAuthProxy(upstream, 'convoy-svc', REGISTRY_PASSWORD);
  t.after(() => proxy.close());
  const subject = uniqueName('it-sec-value');
  const schema = { type: 'record', name: 'Secured', namespace: 'convoy.test', fields: [{ name: 'n', type: 'int' }] };

  const config = loadConfig(connectionFields, {
    KAFKA_BROKERS: '127.0.0.1:9092',
    SCHEMA_REGISTRY_URL: proxy.url,
    SCHEMA_REGISTRY_USERNAME: 'convoy-svc',
    SCHEMA_REGISTRY_PASSWORD: REGISTRY_PASSWORD,
  });
  const codec = createCodec(registryOptionsFrom(config));
  const id = await codec.register(subject, schema, 'avro');
  const bytes = await codec.encode(id, { n: 42 });
  // A fresh codec has no cached schema: decoding fetches it through the proxy again.
  const decoded = await createCodec(registryOptionsFrom(config)).decode(bytes);
  assert.deepEqual({ ...(decoded.value as object) }, { n: 42 });
  assert.equal(decoded.schemaId, id);
  assert.ok(proxy.seen.length >= 2, `requests seen: ${proxy.seen.length}`);
  assert.deepEqual(new Set(proxy.seen), new Set([proxy.expected]));

  const refused = createCodec(
    registryOptionsFrom(loadConfig(connectionFields, {
      KAFKA_BROKERS: '127.0.0.1:9092',
      SCHEMA_REGISTRY_URL: proxy.url,
      SCHEMA_REGISTRY_USERNAME: 'convoy-svc',
      SCHEMA_REGISTRY_PASSWORD: 'wrong-Registry-11aa',
    })),
  );
  const error = await refused.decode(bytes).then(
    () => assert.fail('decoding with refused credentials succeeded'),
    (e: unknown) => e as { code: string; retriable: boolean; message: string },
  );
  assert.equal(error.code, 'CODEC_REGISTRY_UNAUTHORIZED');
  assert.equal(error.retriable, false);
  assert.equal(
    error.message,
    `fetching schema ${id} failed: the schema registry refused the credentials (HTTP 401): check SCHEMA_REGISTRY_USERNAME and SCHEMA_REGISTRY_PASSWORD`,
  );
  const printed = `${inspect(error, { depth: 10, showHidden: true })}\n${JSON.stringify(error)}`;
  assert.deepEqual(leakedForms(printed, 'convoy-svc', 'wrong-Registry-11aa'), []);
});
