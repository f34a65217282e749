import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FixedSlack } from './fixed-slack.ts';

test('FixedSlack keeps exactly k whatever it observes', () => {
  const s = new FixedSlack(250);
  assert.equal(s.slack, 250);
  s.observe(1000, 1);
  s.observe(10, 1);
  s.observe(5000, 1);
  assert.equal(s.slack, 250);
});

test('FixedSlack accepts 0 and rejects negative or non-finite k', () => {
  assert.equal(new FixedSlack(0).slack, 0);
  for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY]) {
    assert.throws(() => new FixedSlack(bad), { code: 'ORDERING_INVALID_OPTION' });
  }
});
