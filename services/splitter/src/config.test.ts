import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classify, compileRules } from './classify.ts';
import { loadSplitterConfig } from './config.ts';
import { eventTimeFromValue, parseEventTimeSource, parseKeySource } from './sources.ts';

const BASE = { KAFKA_BROKERS: '127.0.0.1:9092' };

test('defaults: hash mode over convoy.input → convoy.substreams × 4, key source, record timestamp, delivery-tier rules', () => {
  const config = loadSplitterConfig(BASE);
  assert.equal(config.SPLITTER_INPUT_TOPIC, 'convoy.input');
  assert.equal(config.SPLITTER_GROUP_ID, 'convoy-splitter');
  assert.equal(config.SPLITTER_SUBSTREAMS_TOPIC, 'convoy.substreams');
  assert.equal(config.SPLITTER_SUBSTREAMS, 4);
  assert.equal(config.SPLITTER_EPOCH, 0);
  assert.equal(config.SPLITTER_MODE, 'hash');
  assert.deepEqual(config.SPLITTER_KEY_SOURCE, { kind: 'key' });
  assert.deepEqual(config.SPLITTER_EVENT_TIME_SOURCE, { kind: 'timestamp' });
  assert.equal(config.SPLITTER_MARKER_INTERVAL_MS, 200);
  assert.equal(config.SPLITTER_MARKER_EVERY_EVENTS, 1000);
  assert.equal(config.SPLITTER_MARKER_IDLE_INTERVAL_MS, 1000);
  assert.equal(config.SPLITTER_MAX_VALUE_BYTES, 1024 * 1024);
  assert.equal(config.SPLITTER_RULES.name, 'delivery-tier');
  assert.equal(config.SPLITTER_DEFAULT_TOPIC, 'convoy.delivery.weekly');
});

test('sources parse into typed values', () => {
  const config = loadSplitterConfig({ ...BASE, SPLITTER_KEY_SOURCE: 'field:customer.id', SPLITTER_EVENT_TIME_SOURCE: 'header:event-time', SPLITTER_MAX_VALUE_BYTES: '64KiB' });
  assert.deepEqual(config.SPLITTER_KEY_SOURCE, { kind: 'field', path: 'customer.id' });
  assert.deepEqual(config.SPLITTER_EVENT_TIME_SOURCE, { kind: 'header', name: 'event-time' });
  assert.equal(config.SPLITTER_MAX_VALUE_BYTES, 65536);
  assert.equal(parseKeySource('timestamp'), undefined);
  assert.equal(parseEventTimeSource('key'), undefined);
  assert.equal(parseKeySource('field:a..b'), undefined);
  assert.equal(parseKeySource('header:'), undefined);
});

test('every bad variable is named in one CONFIG_INVALID message, with what it accepts', () => {
  assert.throws(
    () =>
      loadSplitterConfig({
        ...BASE,
        SPLITTER_KEY_SOURCE: 'value',
        SPLITTER_EVENT_TIME_SOURCE: 'now',
        SPLITTER_RULES: '[{"when": {"order.amount": {"gte": 100}}, "topic": "fast"',
        SPLITTER_SUBSTREAMS: '0',
        SPLITTER_MODE: 'random',
        SPLITTER_MARKER_IDLE_INTERVAL_MS: '50',
      }),
    (error: Error & { code?: string }) => {
      assert.equal(error.code, 'CONFIG_INVALID');
      const lines = error.message.split('\n');
      assert.equal(lines[0], 'Invalid configuration (6 problems):');
      assert.ok(lines.includes('  - SPLITTER_KEY_SOURCE="value" is not valid: expected key, header:<name> or field:<dot.path>'));
      assert.ok(lines.includes('  - SPLITTER_EVENT_TIME_SOURCE="now" is not valid: expected timestamp, header:<name> or field:<dot.path>'));
      assert.ok(lines.some((l) => l.startsWith('  - SPLITTER_RULES="[{\\"when\\"') && l.includes('(not JSON: ')), error.message);
      assert.ok(lines.some((l) => l.startsWith('  - SPLITTER_SUBSTREAMS="0" is not valid')), error.message);
      assert.ok(lines.some((l) => l.startsWith('  - SPLITTER_MODE="random" is not valid')), error.message);
      assert.ok(lines.includes('  - SPLITTER_MARKER_IDLE_INTERVAL_MS=50 is below SPLITTER_MARKER_INTERVAL_MS=200: expected at least the marker interval'));
      return true;
    },
  );
});

test('rule validation names the rule and the problem', () => {
  const problem = (text: string) => {
    const result = compileRules(text);
    return result.ok ? 'ok' : result.problem;
  };
  assert.equal(problem('{}'), 'must be a JSON array of rules');
  assert.equal(problem('[]'), 'has no rules');
  assert.equal(problem('[{"when": {}, "topic": "a"}, {"when": {"x": {"gte": "1"}}, "topic": "b"}]'), 'rule 1.when["x"].gte must be a number');
  assert.equal(problem('[{"when": {"x": {"like": "a%"}}, "topic": "b"}]'), 'rule 0.when["x"] has unknown operator "like" (accepted: eq, gte, gt, lt, lte, in)');
  assert.equal(problem('[{"when": {"x": {"in": []}}, "topic": "b"}]'), 'rule 0.when["x"].in must be a non-empty array of strings, numbers or booleans');
  assert.equal(problem('[{"when": {"x": {"eq": 1}}, "topic": "bad topic"}]'), 'rule 0.topic must be a topic name');
  assert.equal(problem('[{"when": {"x": {"eq": 1}}, "topic": "t", "else": "u"}]'), 'rule 0 has unknown key "else"');
  assert.equal(problem('[{"when": {"x": {}}, "topic": "t"}]'), 'rule 0.when["x"] has no operator (eq|gte|gt|lt|lte|in)');
  const config = loadSplitterConfig({ ...BASE, SPLITTER_RULES: '[{"when": {"x": {"gte": 1}}, "topic": "t"}]' });
  assert.equal(config.SPLITTER_RULES.name, 'custom');
});

test('custom rules: first match wins, every condition must hold, missing fields fail, default otherwise', () => {
  const result = compileRules(
    JSON.stringify([
      { when: { 'order.amount': { gte: 100, lt: 1000 }, region: { eq: 'eu' } }, topic: 'eu-mid' },
      { when: { region: { in: ['eu', 'us'] } }, topic: 'eu-us' },
      { when: { vip: { eq: true } }, topic: 'vip' },
    ]),
  );
  assert.ok(result.ok);
  const route = (payload: unknown) => classify(result.ruleSet, payload, 'rest');
  assert.equal(route({ order: { amount: 100 }, region: 'eu' }), 'eu-mid');
  assert.equal(route({ order: { amount: 1000 }, region: 'eu' }), 'eu-us');
  assert.equal(route({ order: { amount: '500' }, region: 'us' }), 'eu-us');
  assert.equal(route({ vip: true }), 'vip');
  assert.equal(route({ vip: 'true' }), 'rest');
  assert.equal(route(null), 'rest');
});

test('event time values: ms numbers and decimal text, ISO-8601, nothing else', () => {
  assert.equal(eventTimeFromValue(1_700_000_000_000), 1_700_000_000_000);
  assert.equal(eventTimeFromValue('1700000000000'), 1_700_000_000_000);
  assert.equal(eventTimeFromValue('2024-01-02T03:04:05+01:00'), Date.UTC(2024, 0, 2, 2, 4, 5));
  assert.equal(eventTimeFromValue('yesterday'), undefined);
  assert.equal(eventTimeFromValue(null), undefined);
  assert.equal(eventTimeFromValue(Number.NaN), undefined);
});

test('hostile-input settings: strict defaults, overrides, and bad values named', () => {
  const defaults = loadSplitterConfig(BASE);
  assert.equal(defaults.SPLITTER_CONVOY_HEADERS_ON_INPUT, 'dead-letter');
  assert.equal(defaults.SPLITTER_NULL_VALUES, 'dead-letter');
  assert.equal(defaults.SPLITTER_EVENT_TIME_MIN, Date.UTC(2000, 0, 1));
  assert.equal(defaults.SPLITTER_EVENT_TIME_MAX_FUTURE_MS, 3_600_000);
  assert.equal(defaults.SPLITTER_EVENT_TIME_MAX_PAST_MS, 0);
  assert.equal(defaults.SPLITTER_MAX_RECORD_BYTES, undefined);

  const set = loadSplitterConfig({
    ...BASE,
    SPLITTER_CONVOY_HEADERS_ON_INPUT: 'strip',
    SPLITTER_NULL_VALUES: 'pass',
    SPLITTER_EVENT_TIME_MIN: '2020-01-01T00:00:00Z',
    SPLITTER_EVENT_TIME_MAX_FUTURE_MS: '5m',
    SPLITTER_EVENT_TIME_MAX_PAST_MS: '168h',
    SPLITTER_MAX_RECORD_BYTES: '512KiB',
  });
  assert.deepEqual(
    [set.SPLITTER_CONVOY_HEADERS_ON_INPUT, set.SPLITTER_NULL_VALUES, set.SPLITTER_EVENT_TIME_MIN, set.SPLITTER_EVENT_TIME_MAX_FUTURE_MS, set.SPLITTER_EVENT_TIME_MAX_PAST_MS, set.SPLITTER_MAX_RECORD_BYTES],
    ['strip', 'pass', Date.UTC(2020, 0, 1), 300_000, 604_800_000, 524_288],
  );
  assert.equal(loadSplitterConfig({ ...BASE, SPLITTER_EVENT_TIME_MIN: 'none' }).SPLITTER_EVENT_TIME_MIN, undefined);

  assert.throws(
    () => loadSplitterConfig({ ...BASE, SPLITTER_CONVOY_HEADERS_ON_INPUT: 'trust', SPLITTER_EVENT_TIME_MIN: 'yesterday', SPLITTER_EVENT_TIME_MAX_FUTURE_MS: '-1', SPLITTER_MAX_RECORD_BYTES: '100' }),
    (error: Error & { code?: string }) => {
      const lines = error.message.split('\n');
      assert.equal(lines[0], 'Invalid configuration (4 problems):');
      for (const name of ['SPLITTER_CONVOY_HEADERS_ON_INPUT="trust"', 'SPLITTER_EVENT_TIME_MIN="yesterday"', 'SPLITTER_EVENT_TIME_MAX_FUTURE_MS="-1"', 'SPLITTER_MAX_RECORD_BYTES="100"']) {
        assert.ok(lines.some((l) => l.startsWith(`  - ${name} is not valid`)), `${name}: ${error.message}`);
      }
      return true;
    },
  );
});
