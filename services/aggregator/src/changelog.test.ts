import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ConvoyRecord, OutgoingRecord } from '@convoy/kafka';
import { changelogRecords, decodeChangelogTail } from './changelog.ts';

const input = { topic: 'orders', partition: 3 };

function consumed(records: readonly OutgoingRecord[], firstOffset = 0): ConvoyRecord[] {
  return records.map((r, i) => ({
    topic: 'cl',
    partition: r.partition ?? 0,
    offset: firstOffset + i,
    timestamp: 0,
    key: r.key === null ? null : Buffer.from(r.key),
    value: r.value === null ? null : Buffer.from(r.value),
    headers: r.headers ?? {},
  }));
}

/** Incompressible enough to need several chunks. */
const big = { data: Array.from({ length: 400 }, (_, i) => `${i}-${(i * 2654435761) % 1_000_003}-${(i * 40503) % 65_521}`) };

test('a write is chunked, keyed per input partition and chunk, and decodes from a tail holding it', () => {
  const first = changelogRecords('cl', input, 1, { v: 1 }, 1024);
  const second = changelogRecords('cl', input, 2, big, 1024);
  assert.equal(first.length, 1);
  assert.ok(second.length >= 2, `${second.length} chunks`);
  assert.deepEqual(second.map((r) => r.key), second.map((_, i) => `orders/3#${i}`));
  assert.ok(second.every((r) => r.partition === 3 && (r.value as Buffer).length <= 1024));
  const all = consumed([...first, ...second]);
  assert.deepEqual(decodeChangelogTail(all, input, true), { kind: 'state', id: 2, state: big });
  assert.deepEqual(decodeChangelogTail(all.slice(2), input, false), { kind: 'incomplete' }, 'the first chunk of the last write is missing');
  assert.deepEqual(decodeChangelogTail(all.slice(0, 1), input, false), { kind: 'state', id: 1, state: { v: 1 } });
});

test('empty only when the whole partition was read; other inputs are skipped', () => {
  const other = consumed(changelogRecords('cl', { topic: 'orders', partition: 4 }, 1, { v: 9 }, 1024));
  assert.deepEqual(decodeChangelogTail(other, input, true), { kind: 'empty' });
  assert.deepEqual(decodeChangelogTail([], input, false), { kind: 'incomplete' });
});

test('a missing chunk in a fully read partition is corruption', () => {
  const records = consumed(changelogRecords('cl', input, 1, big, 1024));
  assert.throws(() => decodeChangelogTail(records.slice(1), input, true), { code: 'AGGREGATOR_CHANGELOG_CORRUPT' });
});
