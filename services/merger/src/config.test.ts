import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { lateTopicOf, loadMergerConfig } from './config.ts';

const base = { KAFKA_BROKERS: '127.0.0.1:9092' };

function problems(env: Record<string, string>): string {
  try {
    loadMergerConfig({ ...base, ...env });
  } catch (error) {
    assert.equal((error as { code?: string }).code, 'CONFIG_INVALID');
    return (error as Error).message;
  }
  assert.fail('expected CONFIG_INVALID');
}

describe('merger config', () => {
  test('defaults', () => {
    const c = loadMergerConfig(base);
    assert.equal(c.KAFKA_CLIENT_ID, 'convoy-merger');
    assert.equal(c.MERGER_INPUT_TOPIC, 'convoy.processed');
    assert.equal(c.MERGER_OUTPUT_TOPIC, 'convoy.ordered');
    assert.equal(lateTopicOf(c), 'convoy.ordered.late');
    assert.equal(c.MERGER_GROUP_ID, 'convoy-merger');
    assert.equal(c.MERGER_GAP_TIMEOUT_MS, 10_000);
    assert.equal(c.MERGER_LATE_POLICY, 'route-late');
    assert.equal(c.MERGER_NEVER_DROP, false);
    assert.equal(c.MERGER_CAPACITY, 100_000);
    assert.equal(c.MERGER_CAPACITY_BYTES, 64 * 1024 * 1024);
    assert.equal(c.MERGER_OVERFLOW, 'force-oldest-gap');
  });

  test('parsed values', () => {
    const c = loadMergerConfig({
      ...base,
      MERGER_GAP_TIMEOUT_MS: '2s',
      MERGER_LATE_POLICY: 'EMIT-FLAGGED',
      MERGER_CAPACITY_BYTES: '1MiB',
      MERGER_OVERFLOW: 'back-pressure',
      MERGER_OUTPUT_TOPIC: 'out',
      MERGER_LATE_TOPIC: 'late-things',
    });
    assert.equal(c.MERGER_GAP_TIMEOUT_MS, 2_000);
    assert.equal(c.MERGER_LATE_POLICY, 'emit-flagged');
    assert.equal(c.MERGER_CAPACITY_BYTES, 1024 * 1024);
    assert.equal(c.MERGER_OVERFLOW, 'back-pressure');
    assert.equal(lateTopicOf(c), 'late-things');
  });

  test('never-drop forbids the drop policy, naming both variables', () => {
    const message = problems({ MERGER_NEVER_DROP: 'true', MERGER_LATE_POLICY: 'drop' });
    assert.match(message, /MERGER_NEVER_DROP=true forbids MERGER_LATE_POLICY=drop/);
    assert.doesNotThrow(() => loadMergerConfig({ ...base, MERGER_NEVER_DROP: 'true', MERGER_LATE_POLICY: 'route-late' }));
    assert.doesNotThrow(() => loadMergerConfig({ ...base, MERGER_NEVER_DROP: 'false', MERGER_LATE_POLICY: 'drop' }));
  });

  test('bad values name the variable and what it accepts', () => {
    const message = problems({ MERGER_LATE_POLICY: 'later', MERGER_CAPACITY: '0', MERGER_GAP_TIMEOUT_MS: 'soon', MERGER_OVERFLOW: 'grow' });
    assert.match(message, /4 problems/);
    assert.match(message, /MERGER_LATE_POLICY="later".*route-late.*emit-flagged.*drop/);
    assert.match(message, /MERGER_CAPACITY="0".*integer >= 1/);
    assert.match(message, /MERGER_GAP_TIMEOUT_MS="soon".*duration/);
    assert.match(message, /MERGER_OVERFLOW="grow".*force-oldest-gap.*back-pressure/);
  });
});
