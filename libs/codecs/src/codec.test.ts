import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CODEC_DECODE_FAILED, CODEC_NO_REGISTRY, CODEC_REGISTRY_UNAVAILABLE, CODEC_VALUE_TOO_LARGE, createCodec } from './codec.ts';
import { fieldAt } from './field-at.ts';

const code = (expected: string, retriable = false) => (e: { code: string; retriable: boolean }) => {
  assert.equal(e.code, expected);
  assert.equal(e.retriable, retriable);
  return true;
};

test('without a registry: plain JSON both ways', async () => {
  const codec = createCodec();
  assert.equal(codec.hasRegistry, false);
  const bytes = await codec.encode(undefined, { a: 1, b: ['x'] });
  assert.equal(bytes.toString(), '{"a":1,"b":["x"]}');
  assert.deepEqual(await codec.decode(bytes), { value: { a: 1, b: ['x'] } });
  await assert.rejects(codec.encode(1, {}), code(CODEC_NO_REGISTRY));
});

test('bad JSON and framed bytes without a registry are CODEC_DECODE_FAILED', async () => {
  const codec = createCodec();
  await assert.rejects(codec.decode(Buffer.from('{"a":')), code(CODEC_DECODE_FAILED));
  await assert.rejects(codec.decode(Buffer.from([0, 0, 0, 0, 1, 2])), (e: Error & { code: string }) =>
    e.code === CODEC_DECODE_FAILED && /no schema registry is configured/.test(e.message));
});

test('values above maxValueBytes are CODEC_VALUE_TOO_LARGE both ways', async () => {
  const codec = createCodec({ maxValueBytes: 10 });
  await assert.rejects(codec.decode(Buffer.from('"0123456789"')), code(CODEC_VALUE_TOO_LARGE));
  await assert.rejects(codec.encode(undefined, '0123456789'), code(CODEC_VALUE_TOO_LARGE));
  assert.deepEqual(await codec.decode(Buffer.from('"01234567"')), { value: '01234567' });
});

test('an unreachable registry is CODEC_REGISTRY_UNAVAILABLE, retriable', async () => {
  const codec = createCodec({ registryUrl: 'http://127.0.0.1:1/apis/ccompat/v7', registryRetries: 0 });
  await assert.rejects(codec.decode(Buffer.from([0, 0, 0, 0, 1, 2])), code(CODEC_REGISTRY_UNAVAILABLE, true));
});

test('fieldAt follows dot paths through objects and arrays', () => {
  const value = { customer: { id: 'c-1', tags: ['vip'] }, n: 0 };
  assert.equal(fieldAt(value, 'customer.id'), 'c-1');
  assert.equal(fieldAt(value, 'customer.tags.0'), 'vip');
  assert.equal(fieldAt(value, 'n'), 0);
  assert.equal(fieldAt(value, 'customer.missing.deeper'), undefined);
  assert.equal(fieldAt(value, 'customer.id.length'), undefined);
  assert.equal(fieldAt(null, 'a'), undefined);
  assert.equal(fieldAt(value, 'constructor'), undefined);
});
