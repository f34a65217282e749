import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createHealth } from './health.ts';

describe('Health', () => {
  it('is live from creation until told otherwise', () => {
    const health = createHealth();
    assert.equal(health.isLive(), true);
    health.setLive(false);
    assert.equal(health.isLive(), false);
  });

  it('is not ready before any check is registered', () => {
    assert.deepEqual(createHealth().readiness(), {
      ready: false,
      checks: [],
      failing: [{ name: 'checks', ready: false, detail: 'no readiness checks registered yet' }],
    });
  });

  it('is ready only while every check passes', () => {
    const health = createHealth();
    health.setReady('kafka-connected', true);
    health.setReady('partitions-assigned', false, 'waiting for rebalance');
    assert.deepEqual(health.readiness(), {
      ready: false,
      checks: [
        { name: 'kafka-connected', ready: true },
        { name: 'partitions-assigned', ready: false, detail: 'waiting for rebalance' },
      ],
      failing: [{ name: 'partitions-assigned', ready: false, detail: 'waiting for rebalance' }],
    });
    health.setReady('partitions-assigned', true, '3 partitions');
    assert.equal(health.readiness().ready, true);
    health.setReady('kafka-connected', false);
    assert.deepEqual(health.readiness().failing, [{ name: 'kafka-connected', ready: false }]);
  });
});
