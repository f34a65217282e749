import { z } from 'zod';
import { Secret } from './secret.ts';

export type ParseResult<T> = { ok: true; value: T } | { ok: false; detail?: string };

/** Whether a variable must be set, may be absent (value `undefined`), or falls back to a default. */
export type Presence = 'required' | 'optional' | 'default';

/**
 * A rule spanning several variables. Returns a complete problem sentence, or undefined when fine.
 * It runs only when its own variable has a valid value; `config` holds every valid value parsed
 * from the same environment.
 */
export type CrossCheck<T> = (value: T, config: Readonly<Record<string, unknown>>) => string | undefined;

/**
 * One environment variable: how its text is parsed, the form it accepts (`expects`, quoted verbatim in
 * error messages), and whether it is required. Fields are immutable; `optional()`, `default()`,
 * `check()` and `describe()` return new fields.
 */
export interface Field<T> {
  readonly expects: string;
  /** Secret fields are never trimmed and their text is never quoted in messages. */
  readonly isSecret: boolean;
  readonly presence: Presence;
  readonly defaultValue: T | undefined;
  readonly checks: readonly CrossCheck<T>[];
  /** Parses the variable's text (already trimmed unless secret, never empty). */
  parse(text: string): ParseResult<T>;
  optional(): Field<T | undefined>;
  default(value: T): Field<T>;
  check(rule: CrossCheck<Exclude<T, undefined>>): Field<T>;
  describe(expects: string): Field<T>;
}

/** The value type a field produces. */
export type FieldValue<F> = F extends Field<infer T> ? T : never;

interface FieldState<T> {
  expects: string;
  isSecret: boolean;
  presence: Presence;
  defaultValue: T | undefined;
  checks: readonly CrossCheck<T>[];
  parse: (text: string) => ParseResult<T>;
}

function build<T>(state: FieldState<T>): Field<T> {
  return Object.freeze({
    ...state,
    optional(): Field<T | undefined> {
      return build<T | undefined>({ ...state, presence: 'optional', defaultValue: undefined } as FieldState<T | undefined>);
    },
    default(value: T): Field<T> {
      return build({ ...state, presence: 'default', defaultValue: value });
    },
    check(rule: CrossCheck<Exclude<T, undefined>>): Field<T> {
      return build({ ...state, checks: [...state.checks, rule as CrossCheck<T>] });
    },
    describe(expects: string): Field<T> {
      return build({ ...state, expects });
    },
  });
}

/**
 * Wraps any zod schema that takes the variable's text. `expects` describes the accepted form for
 * humans; zod's own issue text is not shown, so the message stays one readable line.
 */
export function field<T>(schema: z.ZodType<T>, expects: string, options: { secret?: boolean } = {}): Field<T> {
  return build<T>({
    expects,
    isSecret: options.secret ?? false,
    presence: 'required',
    defaultValue: undefined,
    checks: [],
    parse: (text) => {
      const result = schema.safeParse(text);
      return result.success ? { ok: true, value: result.data } : { ok: false };
    },
  });
}

interface Range {
  min?: number;
  max?: number;
}

function rangeText(range: Range, show: (n: number) => string = String): string {
  const { min, max } = range;
  if (min !== undefined && max !== undefined) return ` from ${show(min)} to ${show(max)}`;
  if (min !== undefined) return ` of at least ${show(min)}`;
  if (max !== undefined) return ` of at most ${show(max)}`;
  return '';
}

function bounded(schema: z.ZodNumber, range: Range): z.ZodNumber {
  let bounded = schema;
  if (range.min !== undefined) bounded = bounded.min(range.min);
  if (range.max !== undefined) bounded = bounded.max(range.max);
  return bounded;
}

export function str(options: { pattern?: RegExp; expects?: string } = {}): Field<string> {
  const schema = options.pattern === undefined ? z.string() : z.string().regex(options.pattern);
  const expects = options.expects ?? (options.pattern === undefined ? 'a non-empty string' : `a string matching ${options.pattern}`);
  return field(schema, expects);
}

/** A safe integer, optionally bounded (inclusive). */
export function int(range: Range = {}): Field<number> {
  const schema = z
    .string()
    .regex(/^[+-]?\d+$/)
    .transform(Number)
    .pipe(bounded(z.number().int(), range));
  return field(schema, `an integer${rangeText(range)}`);
}

/** A finite decimal number, optionally bounded (inclusive). */
export function num(range: Range = {}): Field<number> {
  const schema = z
    .string()
    .regex(/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/)
    .transform(Number)
    .pipe(bounded(z.number(), range));
  return field(schema, `a number${rangeText(range)}`);
}

const TRUE_WORDS = ['true', '1', 'yes', 'on'] as const;
const FALSE_WORDS = ['false', '0', 'no', 'off'] as const;

/** true/false, also 1/0, yes/no, on/off, in any letter case. */
export function bool(): Field<boolean> {
  const schema = z
    .string()
    .toLowerCase()
    .pipe(z.enum([...TRUE_WORDS, ...FALSE_WORDS]))
    .transform((word) => (TRUE_WORDS as readonly string[]).includes(word));
  return field(schema, 'true or false');
}

/** One of the given words, matched in any letter case and returned as spelled in `values`. */
export function oneOf<const V extends string>(values: readonly [V, ...V[]]): Field<V> {
  const schema = z.string().transform((text, ctx) => {
    const hit = values.find((value) => value.toLowerCase() === text.toLowerCase());
    if (hit === undefined) {
      ctx.addIssue({ code: 'custom', message: 'not one of the allowed values' });
      return z.NEVER;
    }
    return hit;
  });
  return field(schema as z.ZodType<V>, `one of ${values.join(', ')}`);
}

const HOST_PORT = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?):(\d{1,5})$/;

/** `host:port` with a port from 1 to 65535 (IPv6 hosts in brackets). */
export function hostPort(): Field<string> {
  const schema = z
    .string()
    .regex(HOST_PORT)
    .refine((text) => {
      const port = Number(text.slice(text.lastIndexOf(':') + 1));
      return port >= 1 && port <= 65535;
    });
  return field(schema, 'host:port');
}

/**
 * A list split on `separator` (default ','); items are trimmed, empty items are skipped, and each
 * item is parsed by `item` (default: a non-empty string).
 */
export function list<T = string>(item?: Field<T>, options: { separator?: string; minItems?: number } = {}): Field<T[]> {
  const each = (item ?? str()) as Field<T>;
  const separator = options.separator ?? ',';
  const minItems = options.minItems ?? 1;
  const named = separator === ',' ? 'comma-separated' : `${JSON.stringify(separator)}-separated`;
  const expects = `a ${named} list of ${each.expects}${minItems > 1 ? ` (at least ${minItems})` : ''}`;
  return build<T[]>({
    expects,
    isSecret: false,
    presence: 'required',
    defaultValue: undefined,
    checks: [],
    parse: (text) => {
      const items = text
        .split(separator)
        .map((part) => part.trim())
        .filter((part) => part !== '');
      const values: T[] = [];
      for (const part of items) {
        const parsed = each.parse(part);
        if (!parsed.ok) return { ok: false, detail: `item ${JSON.stringify(part)} is not ${each.expects}` };
        values.push(parsed.value);
      }
      if (values.length < minItems) return { ok: false, detail: `${values.length} item(s)` };
      return { ok: true, value: values };
    },
  });
}

/** An absolute URL whose scheme is one of `protocols` (default http and https). */
export function url(options: { protocols?: readonly string[] } = {}): Field<string> {
  const protocols = options.protocols ?? ['http', 'https'];
  const protocol = new RegExp(`^(${protocols.join('|')})$`);
  const example = `${protocols[0] ?? 'http'}://host:8081`;
  return field(z.url({ protocol }), `an absolute URL (${protocols.join(' or ')}) such as ${example}`);
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Formats milliseconds in the largest unit that divides them exactly: 500ms, 5s, 1m, 2h. */
export function formatDuration(ms: number): string {
  for (const unit of ['h', 'm', 's'] as const) {
    const size = DURATION_UNITS[unit] as number;
    if (ms !== 0 && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

/** A duration in milliseconds: "500ms", "5s", "1.5m", "2h", or a plain number of milliseconds. */
export function duration(range: Range = {}): Field<number> {
  const schema = z
    .string()
    .regex(/^\d+(\.\d+)?\s*(ms|s|m|h)?$/i)
    .transform((text) => {
      const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text) as RegExpExecArray;
      const unit = (match[2] ?? '').toLowerCase() || 'ms';
      return Math.round(Number(match[1]) * (DURATION_UNITS[unit] as number));
    })
    .pipe(bounded(z.number(), range));
  return field(schema, `a duration such as 500ms, 5s or 1m${rangeText(range, formatDuration)}`);
}

const BYTE_UNITS: Record<string, number> = {
  b: 1,
  kb: 1000,
  mb: 1000 ** 2,
  gb: 1000 ** 3,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
};

/** A size in bytes: "512KiB", "1MiB", "2GB" (KB/MB/GB are powers of 1000), or a plain byte count. */
export function bytes(range: Range = {}): Field<number> {
  const schema = z
    .string()
    .regex(/^\d+(\.\d+)?\s*(b|kb|mb|gb|kib|mib|gib)?$/i)
    .transform((text) => {
      const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text) as RegExpExecArray;
      const unit = (match[2] ?? '').toLowerCase() || 'b';
      return Math.round(Number(match[1]) * (BYTE_UNITS[unit] as number));
    })
    .pipe(bounded(z.number(), range));
  return field(schema, `a size such as 512KiB, 1MiB or 1048576${rangeText(range)}`);
}

/** A value wrapped in `Secret`: kept verbatim (not trimmed), and printed as '[redacted]' everywhere. */
export function secret(): Field<Secret> {
  return field(z.string().transform((text) => new Secret(text)), 'a non-empty secret', { secret: true });
}
