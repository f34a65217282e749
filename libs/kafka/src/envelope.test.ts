import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { decodeEnvelope, encodeEnvelope, ENVELOPE_MALFORMED, stripConvoyHeaders, withEnvelope, type Envelope } from './envelope.ts';

const text = (headers: Record<string, Buffer | undefined>) =>
  Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, v?.toString('utf8')]));

test('encodes every field as UTF-8 decimal text', () => {
  const headers = encodeEnvelope({
    kind: 'data', seq: 42, prev: 40, source: { topic: 'convoy.input', partition: 3 },
    eventTime: 1_700_000_000_123, substream: 5, epoch: 2, substreams: 4, epochStart: 39, late: true,
  });
  assert.deepEqual(text(headers), {
    'convoy-kind': 'data', 'convoy-seq': '42', 'convoy-prev': '40', 'convoy-source': 'convoy.input/3',
    'convoy-event-time': '1700000000123', 'convoy-substream': '5', 'convoy-epoch': '2',
    'convoy-substreams': '4', 'convoy-epoch-start': '39', 'convoy-late': 'true',
  });
});

test('decode(encode(e)) = e for valid envelopes', () => {
  const envelope = fc.record(
    {
      kind: fc.constantFrom('data', 'progress', 'filler'),
      seq: fc.nat(),
      prev: fc.nat(),
      source: fc.record({ topic: fc.stringMatching(/^[a-z][a-z.\-_]{0,20}$/), partition: fc.nat({ max: 10_000 }) }),
      eventTime: fc.integer({ min: -1e15, max: 1e15 }),
      substream: fc.nat({ max: 1000 }),
      epoch: fc.nat({ max: 1000 }),
      substreams: fc.integer({ min: 1, max: 1000 }),
      epochStart: fc.nat(),
      late: fc.constant(true),
    },
    { requiredKeys: ['kind', 'seq', 'source'] },
  );
  fc.assert(fc.property(envelope, (e) => assert.deepEqual(decodeEnvelope(encodeEnvelope(e as Envelope)), JSON.parse(JSON.stringify(e)))), { numRuns: 200 });
});

test('records without convoy headers have no envelope', () => {
  assert.equal(decodeEnvelope({ trace: Buffer.from('x') }), undefined);
});

test('malformed convoy headers throw ENVELOPE_MALFORMED naming the header', () => {
  const cases: [Record<string, string>, string][] = [
    [{ 'convoy-kind': 'data', 'convoy-seq': 'abc', 'convoy-source': 't/0' }, 'convoy-seq'],
    [{ 'convoy-kind': 'data', 'convoy-seq': '-1', 'convoy-source': 't/0' }, 'convoy-seq'],
    [{ 'convoy-kind': 'data', 'convoy-seq': '007', 'convoy-source': 't/0' }, 'convoy-seq'],
    [{ 'convoy-kind': 'data', 'convoy-seq': '99999999999999999999', 'convoy-source': 't/0' }, 'convoy-seq'],
    [{ 'convoy-kind': 'data', 'convoy-seq': '1', 'convoy-source': 'no-partition' }, 'convoy-source'],
    [{ 'convoy-kind': 'data', 'convoy-seq': '1' }, 'convoy-source'],
    [{ 'convoy-kind': 'gossip', 'convoy-seq': '1' }, 'convoy-kind'],
    [{ 'convoy-seq': '1' }, 'convoy-kind'],
    [{ 'convoy-kind': 'watermark' }, 'convoy-seq'],
    [{ 'convoy-kind': 'data', 'convoy-seq': '1', 'convoy-source': 't/0', 'convoy-late': 'yes' }, 'convoy-late'],
    [{ 'convoy-kind': 'progress', 'convoy-seq': '1', 'convoy-source': 't/0', 'convoy-epoch-start': '-3' }, 'convoy-epoch-start'],
    [{ 'convoy-kind': 'progress', 'convoy-seq': '1', 'convoy-source': 't/0', 'convoy-epoch-start': 'x' }, 'convoy-epoch-start'],
  ];
  for (const [raw, header] of cases) {
    const headers = Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, Buffer.from(v)]));
    assert.throws(() => decodeEnvelope(headers), (e: { code: string; retriable: boolean; context: { header: string } }) => {
      assert.equal(e.code, ENVELOPE_MALFORMED);
      assert.equal(e.retriable, false);
      assert.equal(e.context.header, header, JSON.stringify(raw));
      return true;
    });
  }
});

test('a watermark needs seq or event time only', () => {
  assert.deepEqual(decodeEnvelope(encodeEnvelope({ kind: 'watermark', eventTime: 1000 })), { kind: 'watermark', eventTime: 1000 });
});

test('stripConvoyHeaders removes every convoy-* header; withEnvelope replaces them', () => {
  const input = { trace: Buffer.from('t'), 'convoy-seq': Buffer.from('666'), 'convoy-forged': Buffer.from('x') };
  assert.deepEqual(text(stripConvoyHeaders(input)), { trace: 't' });
  assert.deepEqual(text(withEnvelope(input, { kind: 'filler', seq: 7, source: { topic: 'in', partition: 0 } })), {
    trace: 't', 'convoy-kind': 'filler', 'convoy-seq': '7', 'convoy-source': 'in/0',
  });
});
