import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConvoyError } from '@convoy/errors';
import type { ShutdownLogger } from './shutdown.ts';
import { createShutdown } from './shutdown.ts';

interface Line {
  level: 'info' | 'warn' | 'error';
  obj: Record<string, unknown>;
  msg: string | undefined;
}

function recorder(): ShutdownLogger & { lines: Line[] } {
  const lines: Line[] = [];
  const at = (level: Line['level']) => (obj: object, msg?: string) => lines.push({ level, obj: obj as Record<string, unknown>, msg });
  return { lines, info: at('info'), warn: at('warn'), error: at('error') };
}

/** A clock the steps advance, so durations are exact. */
function fakeClock() {
  let t = 1000;
  return { now: () => t, advance: (ms: number) => void (t += ms) };
}

describe('createShutdown', () => {
  it('runs steps in reverse registration order and reports each duration', async () => {
    const clock = fakeClock();
    const logger = recorder();
    const shutdown = createShutdown({ logger, timeoutMs: 1000, now: clock.now });
    const ran: string[] = [];
    shutdown.register('disconnect', () => {
      ran.push('disconnect');
      clock.advance(5);
    });
    shutdown.register('commit', async () => {
      ran.push('commit');
      clock.advance(20);
    });
    shutdown.register('stop-fetching', () => {
      ran.push('stop-fetching');
      clock.advance(1);
    });
    const report = await shutdown.run('received SIGTERM');
    assert.deepEqual(ran, ['stop-fetching', 'commit', 'disconnect']);
    assert.deepEqual(report, {
      reason: 'received SIGTERM',
      ok: true,
      timedOut: false,
      durationMs: 26,
      steps: [
        { name: 'stop-fetching', status: 'ok', durationMs: 1 },
        { name: 'commit', status: 'ok', durationMs: 20 },
        { name: 'disconnect', status: 'ok', durationMs: 5 },
      ],
    });
    assert.deepEqual(
      logger.lines.map((line) => line.msg),
      ['shutdown started', 'shutdown step stop-fetching done', 'shutdown step commit done', 'shutdown step disconnect done', 'shutdown complete'],
    );
    assert.deepEqual(logger.lines[2]?.obj, { step: 'commit', durationMs: 20 });
  });

  it('runs once even when triggered twice', async () => {
    const shutdown = createShutdown({ logger: recorder(), timeoutMs: 1000 });
    let calls = 0;
    shutdown.register('close', async () => {
      calls += 1;
    });
    assert.equal(shutdown.started, false);
    const first = shutdown.run('SIGTERM');
    const second = shutdown.run('SIGINT');
    assert.equal(shutdown.started, true);
    assert.equal(first, second);
    assert.equal((await second).reason, 'SIGTERM');
    await shutdown.run('again');
    assert.equal(calls, 1);
  });

  it('logs a failing step and still runs the rest', async () => {
    const logger = recorder();
    const shutdown = createShutdown({ logger, timeoutMs: 1000, now: fakeClock().now });
    const ran: string[] = [];
    shutdown.register('disconnect', () => void ran.push('disconnect'));
    shutdown.register('commit', () => {
      throw new Error('coordinator not available');
    });
    shutdown.register('stop', async () => {
      ran.push('stop');
      throw new Error('already stopped');
    });
    const report = await shutdown.run('test');
    assert.deepEqual(ran, ['stop', 'disconnect']);
    assert.equal(report.ok, false);
    assert.equal(report.timedOut, false);
    assert.deepEqual(report.steps, [
      { name: 'stop', status: 'failed', durationMs: 0, error: 'already stopped' },
      { name: 'commit', status: 'failed', durationMs: 0, error: 'coordinator not available' },
      { name: 'disconnect', status: 'ok', durationMs: 0 },
    ]);
    const failures = logger.lines.filter((line) => line.level === 'error');
    assert.deepEqual(
      failures.map((line) => line.msg),
      ['shutdown step stop failed; continuing', 'shutdown step commit failed; continuing'],
    );
    assert.ok(failures[1]?.obj.err instanceof Error);
  });

  it('stops at the time limit: the stuck step is timed-out and later steps never start', async () => {
    const logger = recorder();
    const shutdown = createShutdown({ logger, timeoutMs: 30 });
    let disconnected = false;
    shutdown.register('disconnect', () => {
      disconnected = true;
    });
    shutdown.register('drain', () => new Promise<void>(() => {}));
    shutdown.register('stop', () => {});
    const started = performance.now();
    const report = await shutdown.run('test');
    const elapsed = performance.now() - started;
    assert.ok(elapsed >= 25 && elapsed < 1000, `took ${elapsed} ms`);
    assert.equal(report.ok, false);
    assert.equal(report.timedOut, true);
    assert.deepEqual(
      report.steps.map((step) => [step.name, step.status]),
      [
        ['stop', 'ok'],
        ['drain', 'timed-out'],
        ['disconnect', 'skipped'],
      ],
    );
    assert.equal(disconnected, false);
    const timeoutLine = logger.lines.find((line) => line.msg === 'shutdown timed out after 30 ms');
    assert.deepEqual(timeoutLine?.obj, { step: 'drain', timeoutMs: 30, skipped: ['disconnect'] });
  });

  it('a step finishing after the time limit does not start the next one', async () => {
    const shutdown = createShutdown({ logger: recorder(), timeoutMs: 10 });
    let disconnected = false;
    let finishDrain = () => {};
    shutdown.register('disconnect', () => {
      disconnected = true;
    });
    shutdown.register('drain', () => new Promise<void>((resolve) => (finishDrain = resolve)));
    const report = await shutdown.run('test');
    finishDrain();
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(report.timedOut, true);
    assert.equal(disconnected, false);
  });

  it('refuses steps after it started and duplicate names', async () => {
    const shutdown = createShutdown({ logger: recorder(), timeoutMs: 100 });
    shutdown.register('a', () => {});
    assert.throws(() => shutdown.register('a', () => {}), (error: unknown) => error instanceof ConvoyError && error.code === 'SHUTDOWN_STEP_DUPLICATE');
    const run = shutdown.run('test');
    assert.throws(() => shutdown.register('late', () => {}), (error: unknown) => error instanceof ConvoyError && error.code === 'SHUTDOWN_STARTED');
    await run;
  });

  it('with no steps completes at once', async () => {
    const report = await createShutdown({ logger: recorder(), timeoutMs: 100, now: () => 0 }).run('test');
    assert.deepEqual(report, { reason: 'test', ok: true, timedOut: false, durationMs: 0, steps: [] });
  });
});
