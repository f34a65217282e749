import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { describe, it } from 'node:test';
import { ConvoyError } from '@convoy/errors';
import { formatFatal, installSignalHandlers, runService, shutdownAndExit } from './process.ts';
import type { ShutdownLogger } from './shutdown.ts';
import { createShutdown } from './shutdown.ts';

const quiet: ShutdownLogger = { info: () => {}, warn: () => {}, error: () => {} };

class FakeProcess extends EventEmitter {
  exits: number[] = [];
  stderrText = '';
  stderr = { write: (text: string) => (this.stderrText += text) };
  exit(code: number): void {
    this.exits.push(code);
  }
}

function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

describe('installSignalHandlers', () => {
  it('SIGTERM runs the shutdown and exits 0', async () => {
    const proc = new FakeProcess();
    const shutdown = createShutdown({ logger: quiet, timeoutMs: 1000 });
    const ran: string[] = [];
    shutdown.register('disconnect', () => void ran.push('disconnect'));
    installSignalHandlers(shutdown, proc);
    proc.emit('SIGTERM');
    await settle();
    assert.deepEqual(ran, ['disconnect']);
    assert.deepEqual(proc.exits, [0]);
    assert.equal((await shutdown.run('check')).reason, 'received SIGTERM');
  });

  it('exits 1 when a step fails', async () => {
    const proc = new FakeProcess();
    const shutdown = createShutdown({ logger: quiet, timeoutMs: 1000 });
    shutdown.register('commit', () => {
      throw new Error('boom');
    });
    installSignalHandlers(shutdown, proc);
    proc.emit('SIGINT');
    await settle();
    assert.deepEqual(proc.exits, [1]);
  });

  it('exits 1 when the shutdown times out', async () => {
    const proc = new FakeProcess();
    const shutdown = createShutdown({ logger: quiet, timeoutMs: 10 });
    shutdown.register('drain', () => new Promise<void>(() => {}));
    installSignalHandlers(shutdown, proc);
    proc.emit('SIGTERM');
    await shutdown.run('wait');
    await settle();
    assert.deepEqual(proc.exits, [1]);
  });

  it('a second signal during shutdown forces exit(1) at once', async () => {
    const proc = new FakeProcess();
    const warnings: unknown[] = [];
    const shutdown = createShutdown({ logger: quiet, timeoutMs: 1000 });
    let finish = () => {};
    shutdown.register('drain', () => new Promise<void>((resolve) => (finish = resolve)));
    installSignalHandlers(shutdown, proc, { logger: { warn: (obj) => void warnings.push(obj) } });
    proc.emit('SIGTERM');
    await settle();
    assert.deepEqual(proc.exits, []);
    proc.emit('SIGINT');
    assert.deepEqual(proc.exits, [1]);
    assert.deepEqual(warnings, [{ signal: 'SIGINT', first: 'SIGTERM' }]);
    finish();
    await shutdown.run('wait');
    await settle();
    assert.deepEqual(proc.exits, [1, 0]);
  });

  it('listens only to the given signals and can be uninstalled', () => {
    const proc = new FakeProcess();
    const uninstall = installSignalHandlers(createShutdown({ logger: quiet, timeoutMs: 10 }), proc, { signals: ['SIGHUP'] });
    assert.equal(proc.listenerCount('SIGHUP'), 1);
    assert.equal(proc.listenerCount('SIGTERM'), 0);
    uninstall();
    assert.equal(proc.listenerCount('SIGHUP'), 0);
  });
});

describe('shutdownAndExit', () => {
  it('exits with the given code after a clean shutdown', async () => {
    const proc = new FakeProcess();
    await shutdownAndExit(createShutdown({ logger: quiet, timeoutMs: 10 }), 'run loop failed', proc, 1);
    assert.deepEqual(proc.exits, [1]);
  });
});

describe('runService', () => {
  it('prints a CONFIG_INVALID message plainly to stderr and exits 1', async () => {
    const proc = new FakeProcess();
    const message = 'Invalid configuration (1 problem):\n  - KAFKA_BROKERS is missing: expected a comma-separated list of host:port';
    await runService(() => {
      throw new ConvoyError('CONFIG_INVALID', message);
    }, proc);
    assert.equal(proc.stderrText, `${message}\n`);
    assert.deepEqual(proc.exits, [1]);
  });

  it('prints other startup errors with code and stack and exits 1', async () => {
    const proc = new FakeProcess();
    await runService(async () => {
      throw new ConvoyError('KAFKA_CONNECT_FAILED', 'broker unreachable', { retriable: true });
    }, proc);
    assert.match(proc.stderrText, /^fatal: KAFKA_CONNECT_FAILED: ConvoyError: broker unreachable\n\s+at /);
    assert.deepEqual(proc.exits, [1]);
  });

  it('does not exit when main succeeds', async () => {
    const proc = new FakeProcess();
    let started = false;
    await runService(async () => {
      started = true;
    }, proc);
    assert.equal(started, true);
    assert.deepEqual(proc.exits, []);
    assert.equal(proc.stderrText, '');
  });

  it('formats non-errors too', () => {
    assert.equal(formatFatal('oops'), 'fatal: oops');
  });
});
