import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Field } from './fields.ts';
import { bool, bytes, duration, formatDuration, hostPort, int, list, num, oneOf, secret, str, url } from './fields.ts';

function value<T>(f: Field<T>, text: string): T {
  const parsed = f.parse(text);
  assert.ok(parsed.ok, `expected ${JSON.stringify(text)} to parse`);
  return parsed.value;
}

function rejects<T>(f: Field<T>, text: string): void {
  assert.equal(f.parse(text).ok, false, `expected ${JSON.stringify(text)} to be rejected`);
}

describe('field helpers', () => {
  it('int accepts signed integers within bounds only', () => {
    const f = int({ min: -5, max: 10 });
    assert.equal(value(f, '10'), 10);
    assert.equal(value(f, '-5'), -5);
    assert.equal(value(f, '+3'), 3);
    for (const bad of ['1.5', '0x10', '1e3', 'abc', '9007199254740993']) rejects(int(), bad);
    rejects(f, '11');
    rejects(f, '-6');
    assert.equal(f.expects, 'an integer from -5 to 10');
    assert.equal(int({ min: 1 }).expects, 'an integer of at least 1');
  });

  it('num accepts decimals and exponents', () => {
    assert.equal(value(num(), '0.25'), 0.25);
    assert.equal(value(num(), '1e3'), 1000);
    rejects(num({ max: 1 }), '1.01');
    rejects(num(), 'NaN');
    rejects(num(), 'Infinity');
  });

  it('bool accepts true/false words in any case', () => {
    for (const yes of ['true', 'TRUE', '1', 'yes', 'On']) assert.equal(value(bool(), yes), true);
    for (const no of ['false', 'False', '0', 'no', 'off']) assert.equal(value(bool(), no), false);
    rejects(bool(), 'maybe');
    assert.equal(bool().expects, 'true or false');
  });

  it('oneOf matches in any case and returns the canonical spelling', () => {
    const f = oneOf(['plain', 'scram-sha-256']);
    assert.equal(value(f, 'SCRAM-SHA-256'), 'scram-sha-256');
    rejects(f, 'gssapi');
    assert.equal(f.expects, 'one of plain, scram-sha-256');
  });

  it('duration reads units and plain milliseconds', () => {
    const f = duration();
    assert.equal(value(f, '250'), 250);
    assert.equal(value(f, '500ms'), 500);
    assert.equal(value(f, '5s'), 5000);
    assert.equal(value(f, '1.5m'), 90_000);
    assert.equal(value(f, '2h'), 7_200_000);
    assert.equal(value(f, '10 S'), 10_000);
    for (const bad of ['abc', '-5s', '5d', '5 s s', 's']) rejects(f, bad);
    rejects(duration({ min: 1000 }), '999ms');
    assert.equal(duration({ min: 1000, max: 60_000 }).expects, 'a duration such as 500ms, 5s or 1m from 1s to 1m');
  });

  it('formatDuration picks the largest exact unit', () => {
    assert.deepEqual([0, 500, 5000, 60_000, 90_000, 7_200_000].map(formatDuration), ['0ms', '500ms', '5s', '1m', '90s', '2h']);
  });

  it('bytes reads binary and decimal units', () => {
    const f = bytes();
    assert.equal(value(f, '1048576'), 1_048_576);
    assert.equal(value(f, '1MiB'), 1_048_576);
    assert.equal(value(f, '512kib'), 524_288);
    assert.equal(value(f, '2MB'), 2_000_000);
    assert.equal(value(f, '1GiB'), 1_073_741_824);
    rejects(f, '1XB');
    rejects(f, '-1');
  });

  it('hostPort requires a host and a port from 1 to 65535', () => {
    assert.equal(value(hostPort(), 'kafka-1.internal:9092'), 'kafka-1.internal:9092');
    assert.equal(value(hostPort(), '[::1]:9092'), '[::1]:9092');
    for (const bad of ['kafka', 'kafka:', ':9092', 'kafka:0', 'kafka:65536', 'http://kafka:9092']) rejects(hostPort(), bad);
  });

  it('list trims items, skips empty ones and parses each', () => {
    assert.deepEqual(value(list(), ' a , b,,c, '), ['a', 'b', 'c']);
    assert.deepEqual(value(list(int(), { separator: ';' }), '1;2'), [1, 2]);
    assert.deepEqual(list(hostPort()).parse('a:1,b'), { ok: false, detail: 'item "b" is not host:port' });
    assert.equal(list(int(), { minItems: 2 }).parse('1').ok, false);
    assert.equal(list(hostPort()).expects, 'a comma-separated list of host:port');
  });

  it('url accepts only the allowed schemes', () => {
    assert.equal(value(url(), 'http://localhost:8081/apis/ccompat/v7'), 'http://localhost:8081/apis/ccompat/v7');
    rejects(url(), 'ftp://host');
    rejects(url(), 'localhost:8081');
    assert.equal(value(url({ protocols: ['ftp'] }), 'ftp://host'), 'ftp://host');
  });

  it('str with a pattern names the pattern', () => {
    const f = str({ pattern: /^[a-z.]+$/ });
    assert.equal(value(f, 'convoy.input'), 'convoy.input');
    rejects(f, 'Convoy');
    assert.equal(f.expects, 'a string matching /^[a-z.]+$/');
  });

  it('secret keeps the text verbatim behind reveal()', () => {
    assert.equal(value(secret(), ' pw ').reveal(), ' pw ');
    assert.equal(secret().isSecret, true);
  });

  it('modifiers return new fields and leave the original alone', () => {
    const base = int();
    const withDefault = base.default(7);
    assert.equal(base.presence, 'required');
    assert.equal(withDefault.presence, 'default');
    assert.equal(withDefault.defaultValue, 7);
    assert.equal(base.optional().presence, 'optional');
    assert.equal(base.describe('a port').expects, 'a port');
    assert.equal(base.expects, 'an integer');
  });
});
