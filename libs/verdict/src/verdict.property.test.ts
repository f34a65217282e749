import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { computeVerdict, type ReadRecord } from './index.ts';

type Fate = 'out' | 'dlq' | 'late' | 'gone';

/** Per partition: the fate of each input offset (offsets may skip, as transaction markers make them). */
const runs = fc.array(
  fc.array(fc.record({ gap: fc.integer({ min: 1, max: 3 }), fate: fc.constantFrom<Fate>('out', 'out', 'out', 'dlq', 'late', 'gone') }), { maxLength: 30 }),
  { minLength: 1, maxLength: 4 },
);

function build(partitions: { gap: number; fate: Fate }[][]) {
  const input: { partition: number; offset: number }[] = [];
  const output: ReadRecord[] = [];
  const deadLetters: ReadRecord[] = [];
  const late: ReadRecord[] = [];
  let gone = 0;
  partitions.forEach((events, p) => {
    let offset = -1;
    for (const { gap, fate } of events) {
      offset += gap;
      input.push({ partition: p, offset });
      const headers = { 'convoy-source': `in/${p}`, 'convoy-seq': String(offset) };
      if (fate === 'out') output.push({ partition: p, offset: output.length, headers });
      else if (fate === 'late') late.push({ partition: 0, offset: late.length, headers });
      else if (fate === 'dlq') deadLetters.push({ partition: 0, offset: deadLetters.length, headers: { '__connect.errors.topic': 'in', '__connect.errors.partition': String(p), '__connect.errors.offset': String(offset) } });
      else gone++;
    }
  });
  return { input, output, deadLetters, late, gone };
}

test('property: an ordered release passes exactly when nothing is gone (or filtering is allowed); counts add up', () => {
  fc.assert(
    fc.property(runs, fc.boolean(), (partitions, allowFiltered) => {
      const { input, output, deadLetters, late, gone } = build(partitions);
      const v = computeVerdict({ inputTopic: 'in', input, output: [...output].reverse(), deadLetters, late, allowFiltered });
      assert.equal(v.ok, allowFiltered || gone === 0);
      assert.equal(v.totals.missing, gone);
      assert.equal(v.totals.input, input.length);
      assert.equal(v.totals.output + v.totals.deadLettered + v.totals.late + v.totals.missing, input.length);
      assert.equal(v.totals.duplicates + v.totals.outOfOrder + v.totals.unexpected, 0);
    }),
  );
});

test('property: repeating a released record, or swapping two neighbours, in a partition fails with exactly that finding', () => {
  fc.assert(
    fc.property(runs, fc.nat(), fc.boolean(), (partitions, i, repeat) => {
      const { input, output, deadLetters, late } = build(partitions);
      fc.pre(output.length >= 2);
      const a = i % output.length;
      const byPartition = output.filter((r) => r.partition === output[a]!.partition);
      fc.pre(byPartition.length >= 2 || repeat);
      const seqs = byPartition.map((r) => r.headers);
      const aInP = byPartition.indexOf(output[a]!);
      const b = aInP + 1;
      let headers: ReadRecord['headers'][];
      if (repeat) headers = [...seqs.slice(0, aInP + 1), seqs[aInP]!, ...seqs.slice(aInP + 1)];
      else {
        fc.pre(b < byPartition.length);
        headers = [...seqs];
        [headers[aInP], headers[b]] = [headers[b]!, headers[aInP]!];
      }
      const broken = [
        ...output.filter((r) => r.partition !== output[a]!.partition),
        ...headers.map((h, k) => ({ partition: output[a]!.partition, offset: k, headers: h })),
      ];
      const v = computeVerdict({ inputTopic: 'in', input, output: broken, deadLetters, late, allowFiltered: true });
      assert.equal(v.ok, false);
      assert.equal(repeat ? v.totals.duplicates : v.totals.outOfOrder, 1);
    }),
  );
});
