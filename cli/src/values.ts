import { duration, num, int } from '@convoy/config';
import { InvalidArgumentError } from 'commander';

function parser<T>(field: { parse(text: string): { ok: true; value: T } | { ok: false }; expects: string }) {
  return (text: string): T => {
    const result = field.parse(text.trim());
    if (!result.ok) throw new InvalidArgumentError(`expected ${field.expects}`);
    return result.value;
  };
}

/** Flag value parsers with the same forms as the environment variables (e.g. `60s`, `2m`). */
export const parseDuration = parser(duration({ min: 0 }));
export const parseRatio = parser(num({ min: 0, max: 1 }));
export const parseRate = parser(num({ min: 0 }));
export const parsePositiveInt = parser(int({ min: 1 }));
export const parseSeed = parser(int({ min: 0, max: 2 ** 32 - 1 }));
