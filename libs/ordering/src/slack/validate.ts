// Relative until libs/ordering/package.json declares "@convoy/errors": "workspace:*" (then import by name).
import { ConvoyError } from '@convoy/errors';

/** Options are validated once at construction; a bad value throws `ORDERING_INVALID_OPTION`. */
export function invalidOption(name: string, value: unknown, accepts: string): ConvoyError {
  return new ConvoyError(
    'ORDERING_INVALID_OPTION',
    `invalid option ${name}=${String(value)}: accepts ${accepts}`,
    { retriable: false, context: { option: name, value, accepts } },
  );
}

export function requireNonNegative(name: string, value: number): number {
  if (!(Number.isFinite(value) && value >= 0)) {
    throw invalidOption(name, value, 'a finite number >= 0');
  }
  return value;
}

export function requirePositive(name: string, value: number): number {
  if (!(Number.isFinite(value) && value > 0)) {
    throw invalidOption(name, value, 'a finite number > 0');
  }
  return value;
}

export function requirePositiveInteger(name: string, value: number): number {
  if (!(Number.isInteger(value) && value > 0)) {
    throw invalidOption(name, value, 'an integer > 0');
  }
  return value;
}

export function requireOpenUnit(name: string, value: number): number {
  if (!(Number.isFinite(value) && value > 0 && value < 1)) {
    throw invalidOption(name, value, 'a number strictly between 0 and 1');
  }
  return value;
}

/** maxK may be Infinity (no cap). */
export function requireMaxK(value: number): number {
  if (!(value === Number.POSITIVE_INFINITY || (Number.isFinite(value) && value >= 0))) {
    throw invalidOption('maxK', value, 'a number >= 0 or Infinity');
  }
  return value;
}
