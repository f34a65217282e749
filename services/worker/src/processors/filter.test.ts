import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { createCodec } from '@convoy/codecs';
import { createLogger } from '@convoy/logging';
import { payloadCodec } from '../payload-codec.ts';
import type { ProcessorContext, WorkerEvent } from '../processor.ts';
import { createFilterProcessor, droppedByEveryNth, evaluateFilter, needsPayload, parseFilterRule } from './filter.ts';

const codec = payloadCodec(createCodec());
const context = { codec, logger: createLogger({ name: 't', level: 'silent' }) } as unknown as ProcessorContext;

function event(seq: number, payload: unknown): WorkerEvent {
  return { key: null, value: Buffer.from(JSON.stringify(payload)), headers: {}, seq, prev: undefined, source: 'in/0', sourcePartition: 0, substream: 0, eventTime: undefined, offset: seq };
}

describe('filter rules', () => {
  it('compares payload fields, nested paths included', () => {
    const p = { amount: 150, grade: 'gold', customer: { region: 'eu' } };
    const keep = (spec: unknown) => evaluateFilter(parseFilterRule(spec), 0, p);
    assert.equal(keep({ field: 'amount', gte: 100 }), true);
    assert.equal(keep({ field: 'amount', gt: 150 }), false);
    assert.equal(keep({ field: 'amount', lt: 151 }), true);
    assert.equal(keep({ field: 'amount', lte: 149 }), false);
    assert.equal(keep({ field: 'grade', eq: 'gold' }), true);
    assert.equal(keep({ field: 'grade', ne: 'gold' }), false);
    assert.equal(keep({ field: 'grade', in: ['silver', 'gold'] }), true);
    assert.equal(keep({ field: 'customer.region', eq: 'eu' }), true);
    assert.equal(keep({ field: 'missing', exists: false }), true);
    assert.equal(keep({ field: 'missing', gte: 0 }), false, 'a missing field fails a comparison');
    assert.equal(keep({ field: 'missing', ne: 1 }), true);
    assert.equal(keep({ field: 'grade', gte: 1 }), false, 'no cross-type ordering');
    assert.equal(keep({ all: [{ field: 'amount', gte: 100 }, { field: 'grade', eq: 'silver' }] }), false);
    assert.equal(keep({ any: [{ field: 'amount', gte: 100 }, { field: 'grade', eq: 'silver' }] }), true);
    assert.equal(keep({ not: { field: 'amount', gte: 100 } }), false);
  });

  it('dropEveryNth drops exactly seq n-1, 2n-1, … with no decoding', () => {
    const rule = parseFilterRule('{"dropEveryNth":10}');
    assert.equal(needsPayload(rule), false);
    const droppedSeqs = Array.from({ length: 35 }, (_, seq) => seq).filter((seq) => !evaluateFilter(rule, seq, undefined));
    assert.deepEqual(droppedSeqs, [9, 19, 29]);
    fc.assert(fc.property(fc.nat(), fc.integer({ min: 2, max: 50 }), (seq, n) => droppedByEveryNth(seq, n) === !evaluateFilter({ dropEveryNth: n }, seq, undefined)));
  });

  it('rejects bad rules with a message naming the place', () => {
    const cases: [unknown, RegExp][] = [
      ['{nope', /not JSON/],
      [[], /\$ must be an object/],
      [{ dropEveryNth: 1 }, /dropEveryNth must be an integer >= 2/],
      [{ field: 'a' }, /exactly one of eq, ne/],
      [{ field: 'a', gte: 1, lte: 2 }, /exactly one of/],
      [{ field: 'a', gte: true }, /gte must be a number or a string/],
      [{ field: 'a', in: 3 }, /in must be an array/],
      [{ all: [] }, /all must be a non-empty array/],
      [{ any: [{ field: 'a', exists: 'yes' }] }, /\$\.any\[0\]\.exists must be true or false/],
      [{ amount: 3 }, /needs "field"/],
    ];
    for (const [spec, message] of cases) assert.throws(() => parseFilterRule(spec), message, JSON.stringify(spec));
  });

  it('the processor keeps the same bytes or returns null; sampling is sync', async () => {
    const sampling = createFilterProcessor({ dropEveryNth: 2 });
    assert.deepEqual(sampling(event(0, { a: 1 }), context), { value: Buffer.from('{"a":1}') });
    assert.equal(sampling(event(1, { a: 1 }), context), null);
    const byField = createFilterProcessor(parseFilterRule({ field: 'amount', gte: 100 }));
    assert.deepEqual(await byField(event(0, { amount: 100 }), context), { value: Buffer.from('{"amount":100}') });
    assert.equal(await byField(event(0, { amount: 99 }), context), null);
  });
});
