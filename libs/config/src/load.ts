import { ConvoyError } from '@convoy/errors';
import type { Field, FieldValue } from './fields.ts';
import { Secret } from './secret.ts';

/** Keys are environment variable names; the parsed config uses the same keys. */
// `any`: Field<T> is invariant in T (its cross-field rules take a T), so Field<unknown> would reject every field.
export type Schema = Record<string, Field<any>>;

/** The typed, frozen result of `loadConfig(schema)`. */
export type Config<S extends Schema> = { readonly [K in keyof S]: FieldValue<S[K]> };

export interface ConfigProblem {
  variable: string;
  message: string;
}

export const CONFIG_INVALID = 'CONFIG_INVALID';

const MAX_SHOWN_CHARS = 120;

function quote(text: string, secret: boolean): string {
  if (secret) return '[redacted]';
  const shown = text.length > MAX_SHOWN_CHARS ? `${text.slice(0, MAX_SHOWN_CHARS)}…` : text;
  return JSON.stringify(shown);
}

/**
 * Parses `env` once against `schema` and returns a frozen, typed config.
 *
 * Contract: either every variable is valid and the result is returned, or a ConvoyError with code
 * CONFIG_INVALID (not retriable) is thrown whose message lists every problem, one per line, in schema
 * order then cross-field rules: `NAME="got" is not valid: expected <form>` or
 * `NAME is missing: expected <form>`. Secret values never appear in the message, the error context,
 * or the returned object's JSON/inspect output. Empty variables count as unset. Variables not in the
 * schema are ignored.
 */
export function loadConfig<S extends Schema>(schema: S, env: Readonly<Record<string, string | undefined>> = process.env): Config<S> {
  const problems: ConfigProblem[] = [];
  const values: Record<string, unknown> = {};

  for (const [name, field] of Object.entries(schema)) {
    const raw = env[name];
    const text = raw === undefined ? '' : field.isSecret ? raw : raw.trim();
    if (text === '') {
      if (field.presence === 'required') problems.push({ variable: name, message: `${name} is missing: expected ${field.expects}` });
      else values[name] = field.defaultValue;
      continue;
    }
    const parsed = field.parse(text);
    if (parsed.ok) {
      values[name] = parsed.value;
    } else {
      const detail = parsed.detail === undefined || field.isSecret ? '' : ` (${parsed.detail})`;
      problems.push({
        variable: name,
        message: `${name}=${quote(text, field.isSecret)} is not valid: expected ${field.expects}${detail}`,
      });
    }
  }

  // A rule that reads a variable which already failed would report a misleading second problem
  // (e.g. "username needs a mechanism" when the mechanism was merely misspelt), so such results are dropped.
  const failed = new Set(problems.map((problem) => problem.variable));
  let readFailed = false;
  const view = new Proxy(values, {
    get(target, key) {
      if (typeof key === 'string' && failed.has(key)) readFailed = true;
      return target[key as string];
    },
  });
  for (const [name, field] of Object.entries(schema)) {
    const value = values[name];
    if (value === undefined) continue;
    for (const rule of field.checks) {
      readFailed = false;
      const message = rule(value, view);
      if (message !== undefined && !readFailed) problems.push({ variable: name, message });
    }
  }

  if (problems.length > 0) {
    const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
    const lines = problems.map((problem) => `  - ${problem.message}`).join('\n');
    throw new ConvoyError(CONFIG_INVALID, `Invalid configuration (${count}):\n${lines}`, {
      retriable: false,
      context: { problems },
    });
  }

  for (const value of Object.values(values)) if (Array.isArray(value)) Object.freeze(value);
  return Object.freeze(values) as Config<S>;
}

function showDefault(value: unknown): string {
  if (value instanceof Secret) return '[redacted]';
  if (Array.isArray(value)) return value.join(',');
  return String(value);
}

/**
 * One line per variable, for `--help` output and READMEs:
 * `NAME  required|optional|default <value>  <form>`.
 */
export function describeSchema(schema: Schema): string {
  const width = Math.max(0, ...Object.keys(schema).map((name) => name.length));
  return Object.entries(schema)
    .map(([name, field]) => {
      const presence = field.presence === 'default' ? `default ${showDefault(field.defaultValue)}` : field.presence;
      return `${name.padEnd(width)}  ${presence}: ${field.expects}`;
    })
    .join('\n');
}
