import { test } from 'node:test';
import assert from 'node:assert/strict';
import { computeVerdict, deadLetterOrigin, formatVerdict, isFinal, stampedOrigin, type ReadRecord } from './index.ts';

const T = 'in';
const out = (partition: number, offset: number, source: string, seq: number): ReadRecord => ({
  partition,
  offset,
  headers: { 'convoy-kind': 'data', 'convoy-source': source, 'convoy-seq': String(seq) },
});
const inputs = (partition: number, offsets: number[]) => offsets.map((offset) => ({ partition, offset }));
const splitterDlq = (partition: number, offset: number, at: number): ReadRecord => ({
  partition: 0,
  offset: at,
  headers: {
    'convoy-error-code': 'SPLITTER_MISSING_CUSTOMER_ID',
    '__connect.errors.topic': T,
    '__connect.errors.partition': String(partition),
    '__connect.errors.offset': String(offset),
    // An untrusted input header: must not decide the origin.
    'convoy-seq': '999',
  },
});

test('origins: stamped headers, and dead letters of the input by their Connect headers', () => {
  assert.deepEqual(stampedOrigin({ 'convoy-source': 'a.b/3', 'convoy-seq': '17' }), { source: 'a.b/3', seq: 17 });
  assert.equal(stampedOrigin({ 'convoy-source': 'a.b/3', 'convoy-seq': '017' }), undefined);
  assert.equal(stampedOrigin({ 'convoy-source': 'a.b', 'convoy-seq': '1' }), undefined);
  assert.equal(stampedOrigin({ 'convoy-seq': '1' }), undefined);
  assert.deepEqual(deadLetterOrigin(splitterDlq(2, 5, 0).headers, T), { source: 'in/2', seq: 5 });
  assert.deepEqual(
    deadLetterOrigin({ '__connect.errors.topic': 'subs', '__connect.errors.offset': '3', 'convoy-source': 'in/1', 'convoy-seq': '8' }, T),
    { source: 'in/1', seq: 8 },
  );
});

test('a complete, ordered run passes, counting dead letters and late events', () => {
  const v = computeVerdict({
    inputTopic: T,
    input: [...inputs(0, [0, 1, 2, 3]), ...inputs(1, [0, 1])],
    output: [out(0, 0, 'in/0', 0), out(0, 1, 'in/0', 2), out(1, 0, 'in/1', 0), out(1, 3, 'in/1', 1)],
    deadLetters: [splitterDlq(0, 1, 0)],
    late: [out(0, 0, 'in/0', 3)],
  });
  assert.equal(v.ok, true);
  assert.deepEqual(v.partitions, [
    { source: 'in/0', partition: 0, input: 4, output: 2, deadLettered: 1, late: 1, missing: 0, duplicates: 0, outOfOrder: 0, unexpected: 0, ok: true },
    { source: 'in/1', partition: 1, input: 2, output: 2, deadLettered: 0, late: 0, missing: 0, duplicates: 0, outOfOrder: 0, unexpected: 0, ok: true },
  ]);
  assert.deepEqual(v.examples, []);
  assert.equal(isFinal(v), true);
});

test('missing, duplicated, out-of-order and unexpected releases fail, with examples', () => {
  const v = computeVerdict({
    inputTopic: T,
    input: inputs(0, [0, 1, 2, 3, 4]),
    // arrival order of the reads does not matter: judged in output offset order
    output: [out(0, 3, 'in/0', 1), out(0, 0, 'in/0', 0), out(0, 1, 'in/0', 2), out(0, 2, 'in/0', 2), out(0, 4, 'in/0', 9)],
  });
  assert.equal(v.ok, false);
  const p = v.partitions[0]!;
  assert.deepEqual(
    { missing: p.missing, duplicates: p.duplicates, outOfOrder: p.outOfOrder, unexpected: p.unexpected, output: p.output },
    { missing: 2, duplicates: 1, outOfOrder: 1, unexpected: 1, output: 5 },
  );
  assert.deepEqual(v.examples, [
    'in/0: seq 2 released twice (output 0@2)',
    'in/0: seq 1 after 2 (output 0@3)',
    'in/0: seq 9 is no input offset that was read (output 0@4)',
    'in/0: seq 3 is in no output, late or dead-letter topic',
    'in/0: seq 4 is in no output, late or dead-letter topic',
  ]);
  assert.equal(isFinal(v), true);
});

test('only missing events: not final (they may still arrive); allowed when filtering', () => {
  const input = inputs(0, [0, 1, 2]);
  const output = [out(0, 0, 'in/0', 0), out(0, 1, 'in/0', 2)];
  const strict = computeVerdict({ inputTopic: T, input, output });
  assert.equal(strict.ok, false);
  assert.equal(isFinal(strict), false);
  const filtered = computeVerdict({ inputTopic: T, input, output, allowFiltered: true });
  assert.equal(filtered.ok, true);
  assert.equal(filtered.totals.missing, 1);
  // order is still checked when filtering is allowed
  const swapped = computeVerdict({ inputTopic: T, input, output: [out(0, 0, 'in/0', 2), out(0, 1, 'in/0', 0)], allowFiltered: true });
  assert.equal(swapped.ok, false);
  assert.equal(swapped.totals.outOfOrder, 1);
});

test('an event both released and routed late is a duplicate; output without an origin fails', () => {
  const v = computeVerdict({
    inputTopic: T,
    input: inputs(0, [0]),
    output: [out(0, 0, 'in/0', 0), { partition: 0, offset: 1, headers: {} }],
    late: [out(0, 0, 'in/0', 0)],
  });
  assert.equal(v.totals.duplicates, 1);
  assert.equal(v.unattributed, 1);
  assert.equal(v.ok, false);
});

test('formatVerdict prints one row per source partition, a total and the summary', () => {
  const v = computeVerdict({
    inputTopic: T,
    input: [...inputs(0, [0, 1]), ...inputs(1, [0])],
    output: [out(0, 0, 'in/0', 0), out(1, 0, 'in/1', 0)],
    deadLetters: [splitterDlq(0, 1, 0)],
  });
  assert.equal(
    formatVerdict(v),
    [
      'source  input  output  dlq  late  missing  dup  order  unexp  verdict',
      'in/0        2       1    1     0        0    0      0      0       ok',
      'in/1        1       1    0     0        0    0      0      0       ok',
      'total       3       2    1     0        0    0      0      0       ok',
      'PASS: 2 in order, 1 dead-lettered, 0 late, no duplicates',
    ].join('\n'),
  );
});
