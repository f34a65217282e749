import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ConvoyRecord } from '@convoy/kafka';
import { resumePointsFromTail } from './resume-point.ts';

function out(offset: number, h: Record<string, string>): ConvoyRecord {
  const headers: ConvoyRecord['headers'] = {};
  for (const [k, v] of Object.entries(h)) headers[k] = Buffer.from(v);
  return { topic: 'convoy.ordered', partition: 0, offset, timestamp: 0, key: null, value: null, headers };
}

const data = (offset: number, seq: number, source = 'in/0', extra: Record<string, string> = {}) =>
  out(offset, { 'convoy-kind': 'data', 'convoy-seq': String(seq), 'convoy-source': source, ...extra });

describe('resumePointsFromTail', () => {
  test('the highest in-order data seq per source', () => {
    const points = resumePointsFromTail([data(10, 40), data(12, 44), data(13, 41, 'in/0', { 'convoy-late': 'true' }), data(14, 7, 'other/3')]);
    assert.deepEqual([...points], [['in/0', 44], ['other/3', 7]]);
  });

  test('late-flagged, foreign and malformed records prove nothing', () => {
    const points = resumePointsFromTail([
      data(1, 90, 'in/0', { 'convoy-late': 'true' }),
      out(2, { foo: 'bar' }),
      out(3, { 'convoy-kind': 'data', 'convoy-seq': 'x', 'convoy-source': 'in/0' }),
      out(4, { 'convoy-kind': 'progress', 'convoy-seq': '99', 'convoy-source': 'in/0' }),
    ]);
    assert.equal(points.size, 0);
  });

  test('empty tail: nothing to resume', () => {
    assert.equal(resumePointsFromTail([]).size, 0);
  });
});
