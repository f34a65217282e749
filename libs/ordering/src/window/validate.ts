// Relative until libs/ordering/package.json declares "@convoy/errors": "workspace:*" (then import by name).
import { ConvoyError } from '@convoy/errors';

/**
 * Options are validated once at construction (`ORDERING_INVALID_OPTION`); inputs that no caller
 * should send, such as a non-integer event time, throw `ORDERING_INVALID_INPUT`; a snapshot that
 * does not match the format throws `ORDERING_INVALID_SNAPSHOT`. None is retriable: retrying the
 * same value fails the same way.
 */
export function invalidOption(name: string, value: unknown, accepts: string): ConvoyError {
  return new ConvoyError('ORDERING_INVALID_OPTION', `${name} must be ${accepts}, got ${String(value)}`, {
    context: { option: name, value },
  });
}

export function invalidInput(name: string, value: unknown, accepts: string): ConvoyError {
  return new ConvoyError('ORDERING_INVALID_INPUT', `${name} must be ${accepts}, got ${String(value)}`, {
    context: { input: name, value },
  });
}

export function invalidSnapshot(reason: string): ConvoyError {
  return new ConvoyError('ORDERING_INVALID_SNAPSHOT', `snapshot rejected: ${reason}`);
}

export function requirePositiveInteger(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value <= 0) throw invalidOption(name, value, 'an integer > 0');
  return value;
}

export function requireNonNegativeInteger(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 0) throw invalidOption(name, value, 'an integer >= 0');
  return value;
}

export function requireTime(name: string, value: number): number {
  if (!Number.isSafeInteger(value)) throw invalidInput(name, value, 'an integer (ms)');
  return value;
}
