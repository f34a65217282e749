// Relative until libs/ordering/package.json declares "@convoy/errors": "workspace:*" (then import by name).
import { ConvoyError } from '@convoy/errors';
import type { LatePolicy } from './types.ts';

export function invalidOption(name: string, value: unknown, accepts: string): ConvoyError {
  return new ConvoyError(
    'ORDERING_INVALID_OPTION',
    `invalid option ${name}=${String(value)}: accepts ${accepts}`,
    { retriable: false, context: { option: name, value, accepts } },
  );
}

export function positiveIntegerOr(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!(Number.isSafeInteger(value) && value > 0)) throw invalidOption(name, value, 'an integer > 0');
  return value;
}

/** Infinity is allowed: "no limit" or "wait forever". */
export function nonNegativeOr(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!(value >= 0) || Number.isNaN(value)) throw invalidOption(name, value, 'a number >= 0 or Infinity');
  return value;
}

export function oneOf<V extends string>(name: string, value: V | undefined, allowed: readonly V[], fallback: V): V {
  if (value === undefined) return fallback;
  if (!allowed.includes(value)) throw invalidOption(name, value, allowed.join(' | '));
  return value;
}

const LATE_POLICIES: readonly LatePolicy[] = ['emit-flagged', 'route-late', 'drop'];

/**
 * Late policy per stream. `latePolicy` is one policy for all streams, a map by stream name, or a
 * function of the stream name; streams not covered get `defaultLatePolicy` ('route-late').
 * `neverDrop` lists streams (or a predicate) whose late events must never be dropped, e.g. card
 * transactions.
 */
export interface LatePolicyOptions {
  latePolicy?: LatePolicy | Readonly<Record<string, LatePolicy>> | ((stream: string) => LatePolicy | undefined);
  defaultLatePolicy?: LatePolicy;
  neverDrop?: readonly string[] | ((stream: string) => boolean);
}

/**
 * Validates the policy options once and returns the per-stream resolver. A never-drop stream whose
 * policy resolves to `drop` is a configuration error: rejected here when it can be seen statically
 * (default, map, list), otherwise thrown on the stream's first event.
 */
export function latePolicyResolver(options: LatePolicyOptions): (stream: string) => LatePolicy {
  const fallback = oneOf('defaultLatePolicy', options.defaultLatePolicy, LATE_POLICIES, 'route-late');
  const spec = options.latePolicy;
  const neverDrop = options.neverDrop;
  const isNeverDrop =
    neverDrop === undefined
      ? () => false
      : typeof neverDrop === 'function'
        ? neverDrop
        : (stream: string) => neverDrop.includes(stream);

  let lookup: (stream: string) => LatePolicy | undefined;
  if (spec === undefined) lookup = () => undefined;
  else if (typeof spec === 'string') {
    const single = oneOf('latePolicy', spec, LATE_POLICIES, fallback);
    lookup = () => single;
  } else if (typeof spec === 'function') lookup = spec;
  else {
    const map = new Map<string, LatePolicy>();
    for (const [stream, policy] of Object.entries(spec)) {
      map.set(stream, oneOf(`latePolicy[${stream}]`, policy, LATE_POLICIES, fallback));
    }
    lookup = (stream) => map.get(stream);
  }

  const resolve = (stream: string): LatePolicy => {
    const policy = lookup(stream) ?? fallback;
    if (!LATE_POLICIES.includes(policy)) throw invalidOption(`latePolicy(${stream})`, policy, LATE_POLICIES.join(' | '));
    if (policy === 'drop' && isNeverDrop(stream)) {
      throw invalidOption(`latePolicy(${stream})`, policy, 'emit-flagged | route-late for a never-drop stream');
    }
    return policy;
  };
  if (Array.isArray(neverDrop)) for (const stream of neverDrop) resolve(stream);
  if (spec !== undefined && typeof spec === 'object') for (const stream of Object.keys(spec)) resolve(stream);
  return resolve;
}
