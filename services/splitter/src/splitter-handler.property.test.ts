import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { partitionForKey, type ConvoyRecord, type OutgoingRecord } from '@convoy/kafka';
import { createCounters, SourcePartitionSplitter } from './splitter-handler.ts';

const N = 3;

test('property: every record leaves exactly once, prev links form the chain, every marker covers what came before it', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.record({ gap: fc.integer({ min: 1, max: 3 }), key: fc.option(fc.constantFrom('a', 'b', 'c', 'd', ''), { freq: 5 }) }), { minLength: 1, maxLength: 60 }),
      fc.array(fc.integer({ min: 1, max: 10 }), { minLength: 1, maxLength: 20 }),
      fc.integer({ min: 1, max: 7 }),
      async (specs, cuts, every) => {
        let offset = 4;
        const records: ConvoyRecord[] = specs.map((s) => {
          offset += s.gap;
          return { topic: 'in', partition: 0, offset, timestamp: offset, key: s.key === null ? null : Buffer.from(s.key), value: Buffer.from('{}'), headers: {} };
        });
        const out: OutgoingRecord[] = [];
        const splitter = new SourcePartitionSplitter(
          { mode: 'hash', substreamsTopic: 's', substreams: N, epoch: 0, dlqTopic: 'dlq', keySource: { kind: 'key' }, eventTimeSource: { kind: 'timestamp' }, maxValueBytes: 10, markerIntervalMs: 1e12, markerEveryEvents: every, markerIdleIntervalMs: 1e12, decode: (v: Buffer) => JSON.parse(v.toString()) },
          { topic: 'in', partition: 0 },
          5,
          createCounters(),
        );
        let at = 0;
        for (let i = 0, c = 0; i < records.length; c++) {
          const size = cuts[c % cuts.length]!;
          await splitter.onRecords(records.slice(i, i + size), { send: (r) => void out.push(r) }, at++);
          i += size;
        }
        const text = (r: OutgoingRecord, h: string) => r.headers?.[h]?.toString();
        const data = out.filter((r) => text(r, 'convoy-kind') === 'data');
        const dead = out.filter((r) => r.topic === 'dlq');
        // Exactly once: data seqs + dead-letter offsets = input offsets, in input order.
        const leftAs = out.filter((r) => text(r, 'convoy-kind') !== 'progress').map((r) => Number(text(r, 'convoy-seq') ?? text(r, '__connect.errors.offset')));
        assert.deepEqual(leftAs, records.map((r) => r.offset));
        assert.equal(dead.length, records.filter((r) => r.key === null || r.key.length === 0).length);
        // Data lands on murmur2(key) mod N; prev is the previous input offset (the first: offset - 1).
        for (const r of data) {
          const seq = Number(text(r, 'convoy-seq'));
          const index = records.findIndex((x) => x.offset === seq);
          assert.equal(r.partition, partitionForKey(records[index]!.key!, N));
          assert.equal(Number(text(r, 'convoy-prev')), index === 0 ? seq - 1 : records[index - 1]!.offset);
        }
        // Markers: all N per emission; each follows every record with seq ≤ S; one at least every `every` records.
        const markerSeqs: number[] = [];
        for (const [i, r] of out.entries()) {
          if (text(r, 'convoy-kind') !== 'progress') continue;
          const s = Number(text(r, 'convoy-seq'));
          assert.ok(out.slice(i + 1).every((later) => Number(text(later, 'convoy-seq') ?? text(later, '__connect.errors.offset')) > s || text(later, 'convoy-kind') === 'progress'));
          if (r.partition === 0) markerSeqs.push(s);
        }
        assert.equal(out.filter((r) => text(r, 'convoy-kind') === 'progress').length, markerSeqs.length * N);
        // Never more than `every` records without a marker emission after them.
        let run = 0;
        for (const r of out) {
          if (text(r, 'convoy-kind') === 'progress') run = 0;
          else assert.ok(++run <= every, `${run} records without a marker (every ${every})`);
        }
      },
    ),
    { numRuns: 150 },
  );
});
