import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { CODEC_REGISTRY_UNAUTHORIZED, createCodec, registryOptionsFrom } from './codec.ts';

const secret = (value: string) => ({ reveal: () => value, toString: () => '[redacted]' });

describe('registryOptionsFrom', () => {
  it('maps URL and basic-auth credentials; no auth without both; nothing without a URL', () => {
    const url = 'https://r:8081/apis/ccompat/v7';
    assert.deepEqual(registryOptionsFrom({ SCHEMA_REGISTRY_URL: url, SCHEMA_REGISTRY_USERNAME: 'svc', SCHEMA_REGISTRY_PASSWORD: secret('pw') }), {
      registryUrl: url,
      auth: { username: 'svc', password: 'pw' },
    });
    assert.deepEqual(registryOptionsFrom({ SCHEMA_REGISTRY_URL: url }), { registryUrl: url });
    assert.deepEqual(registryOptionsFrom({}), {});
  });
});

describe('registry refusing credentials', () => {
  for (const status of [401, 403]) {
    it(`HTTP ${status} is CODEC_REGISTRY_UNAUTHORIZED, not retriable, naming the variables`, async () => {
      const seen: (string | undefined)[] = [];
      const server = createServer((req, res) => {
        seen.push(req.headers.authorization);
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(`{"error_code":${status},"message":"no"}`);
      });
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      try {
        const { port } = server.address() as { port: number };
        const codec = createCodec({ ...registryOptionsFrom({ SCHEMA_REGISTRY_URL: `http://127.0.0.1:${port}/apis/ccompat/v7`, SCHEMA_REGISTRY_USERNAME: 'svc', SCHEMA_REGISTRY_PASSWORD: secret('pw-7') }), registryRetries: 0 });
        await assert.rejects(codec.decode(Buffer.from([0, 0, 0, 0, 9, 2])), {
          code: CODEC_REGISTRY_UNAUTHORIZED,
          retriable: false,
          message: `fetching schema 9 failed: the schema registry refused the credentials (HTTP ${status}): check SCHEMA_REGISTRY_USERNAME and SCHEMA_REGISTRY_PASSWORD`,
        });
        assert.deepEqual(seen, [`Basic ${Buffer.from('svc:pw-7').toString('base64')}`]);
      } finally {
        server.close();
      }
    });
  }
});
