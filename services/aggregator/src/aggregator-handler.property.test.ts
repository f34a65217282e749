import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { ConvoyRecord, OutgoingRecord } from '@convoy/kafka';
import { hoppingWindows } from '@convoy/ordering';
import { decodeChangelogTail } from './changelog.ts';
import { WindowPartitionHandler, type WindowHandlerOptions, type WindowPartitionState } from './aggregator-handler.ts';
import { INPUT, Input, Recorder } from './test-records.ts';

type Step = { kind: 'event'; key: string; t: number; amount: number } | { kind: 'watermark'; w: number } | { kind: 'bad' };

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('event' as const), key: fc.constantFrom('a', 'b', 'c'), t: fc.integer({ min: 0, max: 2_000 }), amount: fc.integer({ min: -5, max: 50 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('watermark' as const), w: fc.integer({ min: -1, max: 2_200 }) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'bad' as const }) },
);

function records(steps: readonly Step[]): ConvoyRecord[] {
  const input = new Input();
  return steps.map((s) =>
    s.kind === 'event' ? input.order(s.key, s.t, s.amount) : s.kind === 'watermark' ? input.watermark(s.w) : input.event(null, 0, { amount: 1 }),
  );
}

function consumed(sent: readonly OutgoingRecord[]): ConvoyRecord[] {
  return sent
    .filter((r) => r.topic === 'cl')
    .map((r, offset) => ({ topic: 'cl', partition: 0, offset, timestamp: 0, key: Buffer.from(String(r.key)), value: r.value as Buffer, headers: r.headers ?? {} }));
}

test('property: kill at any batch boundary + restore from the changelog = uninterrupted run; versions gapless per window', () => {
  fc.assert(
    fc.property(
      fc.array(step, { minLength: 1, maxLength: 60 }),
      fc.array(fc.integer({ min: 1, max: 8 }), { minLength: 1, maxLength: 20 }),
      fc.nat(),
      fc.record({ size: fc.integer({ min: 50, max: 400 }), slideDiv: fc.integer({ min: 1, max: 3 }), lateness: fc.integer({ min: 0, max: 300 }), cap: fc.integer({ min: 1, max: 12 }) }),
      (steps, batchSizes, cutSeed, p) => {
        const options: WindowHandlerOptions = {
          outputTopic: 'out', lateTopic: 'late', dlqTopic: 'dlq', changelogTopic: 'cl', chunkBytes: 1024,
          key: { kind: 'key' }, valueField: 'amount', eventTime: { kind: 'header', name: 'convoy-event-time' },
          windows: hoppingWindows({ size: p.size, slide: Math.max(1, Math.floor(p.size / p.slideDiv)) }),
          allowedLateness: p.lateness, maxOpenWindows: p.cap, overflow: 'retire-oldest', watermark: 'both', maxOutOfOrderMs: 100,
        };
        const input = records(steps);
        const batches: ConvoyRecord[][] = [];
        for (let i = 0, b = 0; i < input.length; b++) {
          const n = batchSizes[b % batchSizes.length]!;
          batches.push(input.slice(i, i + n));
          i += n;
        }
        const whole = new Recorder();
        const reference = new WindowPartitionHandler(INPUT, options);
        for (const batch of batches) reference.onRecords(batch, whole, 0);
        const expected = whole.sent.filter((r) => r.topic !== 'cl');

        const cut = cutSeed % (batches.length + 1);
        const out = new Recorder();
        const first = new WindowPartitionHandler(INPUT, options);
        for (const batch of batches.slice(0, cut)) first.onRecords(batch, out, 0);
        const tail = decodeChangelogTail(consumed(out.sent), INPUT, true);
        const second = new WindowPartitionHandler(INPUT, options, tail.kind === 'state' ? (tail.state as WindowPartitionState) : undefined);
        // The replay re-delivers from the committed offset, regrouped in one batch.
        second.onRecords(batches.slice(cut).flat(), out, 0);
        const got = out.sent.filter((r) => r.topic !== 'cl');
        assert.deepEqual(got, expected);

        const versions = new Map<string, number>();
        for (const r of got.filter((x) => x.topic === 'out')) {
          const v = JSON.parse(String(r.value)) as { version: number };
          assert.equal(v.version, (versions.get(String(r.key)) ?? 0) + 1, `gapless versions of ${String(r.key)}`);
          versions.set(String(r.key), v.version);
        }
      },
    ),
    { numRuns: 150 },
  );
});
