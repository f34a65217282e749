import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AlphaController } from './alpha-controller.ts';

function close(got: number, want: number): void {
  assert.ok(Math.abs(got - want) < 1e-12, `got ${got}, want ${want}`);
}

test('PD steps: α += kp·e + kd·(e − e_prev), no derivative kick on the first step', () => {
  const c = new AlphaController({ kp: 0.5, kd: 0.8, alphaMin: 0.5, initialAlpha: 0.9 });
  close(c.step(0.99, 0.95), 0.92); // e = 0.04: +0.02
  close(c.step(0.99, 0.97), 0.914); // e = 0.02: +0.01 − 0.016
  close(c.step(0.99, 1.0), 0.885); // e = −0.01: −0.005 − 0.024
});

test('coverage below the set point raises α, above lowers it', () => {
  const up = new AlphaController({ initialAlpha: 0.8 });
  assert.ok(up.step(0.98, 0.9) > 0.8);
  const down = new AlphaController({ initialAlpha: 0.8 });
  assert.ok(down.step(0.98, 1) < 0.8);
});

test('α is clamped to [alphaMin, 1]', () => {
  const c = new AlphaController({ alphaMin: 0.6, initialAlpha: 0.7 });
  for (let i = 0; i < 10; i++) c.step(1, 0);
  assert.equal(c.alpha, 1);
  for (let i = 0; i < 10; i++) c.step(0, 1);
  assert.equal(c.alpha, 0.6);
  c.reset(0.2);
  assert.equal(c.alpha, 0.6);
});

test('AlphaController rejects out-of-range options', () => {
  assert.throws(() => new AlphaController({ alphaMin: 1.5 }), { code: 'ORDERING_INVALID_OPTION' });
  assert.throws(() => new AlphaController({ kp: -1 }), { code: 'ORDERING_INVALID_OPTION' });
});
