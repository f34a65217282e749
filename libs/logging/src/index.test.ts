import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { setImmediate as tick } from 'node:timers/promises';
import { ConvoyError } from '@convoy/errors';
import { createLogger } from './index.ts';

class MemoryStream extends Writable {
  text = '';
  override _write(chunk: Buffer | string, _encoding: string, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
  lines(): Record<string, unknown>[] {
    return this.text
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  }
}

describe('createLogger', () => {
  it('writes one JSON line with level, time, name and msg', () => {
    const out = new MemoryStream();
    createLogger({ name: 'merger', destination: out }).info({ partition: 3 }, 'assigned');
    const [line] = out.lines();
    assert.equal(out.lines().length, 1);
    assert.equal(line?.level, 30);
    assert.equal(line?.name, 'merger');
    assert.equal(line?.msg, 'assigned');
    assert.equal(line?.partition, 3);
    assert.match(String(line?.time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it('honours the level', () => {
    const out = new MemoryStream();
    const logger = createLogger({ name: 'x', level: 'warn', destination: out });
    logger.info('hidden');
    logger.warn('shown');
    assert.deepEqual(
      out.lines().map((line) => line.msg),
      ['shown'],
    );
  });

  it('adds component context through child loggers', () => {
    const out = new MemoryStream();
    createLogger({ name: 'merger', destination: out }).child({ component: 'consumer' }).info('started');
    assert.equal(out.lines()[0]?.component, 'consumer');
    assert.equal(out.lines()[0]?.name, 'merger');
  });

  it('redacts secret-looking keys up to three levels deep', () => {
    const out = new MemoryStream();
    const logger = createLogger({ name: 'x', destination: out, redact: ['custom.field'] });
    logger.info(
      {
        password: 'p1',
        kafka: { sasl: { mechanism: 'plain', username: 'u', password: 'p2' }, ssl: { key: 'PEM' } },
        req: { headers: { authorization: 'Bearer t' } },
        registry: { auth: { password: 'p3' } },
        custom: { field: 'c' },
        keep: 'visible',
      },
      'connecting',
    );
    const text = out.text;
    for (const secret of ['p1', 'p2', 'p3', 'Bearer t', 'PEM', '"c"']) assert.ok(!text.includes(secret), `${secret} leaked: ${text}`);
    const line = out.lines()[0] as Record<string, Record<string, unknown>>;
    assert.equal(line.password, '[redacted]');
    assert.equal(line.kafka?.sasl, '[redacted]');
    assert.equal(line.keep, 'visible');
  });

  it('serializes a ConvoyError under err with its code and retriable flag', () => {
    const out = new MemoryStream();
    const err = new ConvoyError('DECODE_FAILED', 'bad magic byte', { retriable: false });
    createLogger({ name: 'x', destination: out }).error({ err }, 'dead-lettered');
    const logged = out.lines()[0]?.err as Record<string, unknown>;
    assert.equal(logged.code, 'DECODE_FAILED');
    assert.equal(logged.retriable, false);
    assert.equal(logged.message, 'bad magic byte');
    assert.equal(typeof logged.stack, 'string');
  });

  it('writes human-readable lines when pretty is asked for', async () => {
    const out = new MemoryStream();
    createLogger({ name: 'merger', destination: out, pretty: true }).info({ partition: 3 }, 'assigned');
    await tick();
    assert.match(out.text, /INFO.*\(merger\): assigned/);
    assert.match(out.text, /partition: 3/);
    assert.ok(!out.text.trimStart().startsWith('{'));
  });
});
