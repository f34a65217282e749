/**
 * The built-in `filter` processor: keeps an event when a predicate from `WORKER_FILTER` holds, and
 * filters it (returns null) otherwise. The payload is decoded only when a field rule needs it.
 */
import { ConvoyError } from '@convoy/errors';
import type { PayloadCodec, Processor, WorkerEvent } from '../processor.ts';

const COMPARISONS = ['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'in', 'exists'] as const;
type Comparison = (typeof COMPARISONS)[number];

/**
 * A keep-predicate:
 * - `{ "field": "amount", "gte": 100 }`: one comparison (`eq ne gt gte lt lte in exists`) on a payload
 *   field; dotted paths reach nested fields. A missing field fails every comparison except
 *   `exists: false` and `ne`.
 * - `{ "dropEveryNth": 10 }`: deterministic sampling by seq, no decoding: drops exactly the events
 *   with `(seq + 1) % n === 0` (seq 9, 19, 29, …), so a test knows the dropped set in advance.
 * - `{ "all": [...] }`, `{ "any": [...] }`, `{ "not": {...} }`.
 */
export type FilterRule =
  | { readonly field: string; readonly op: Comparison; readonly operand: unknown }
  | { readonly dropEveryNth: number }
  | { readonly all: readonly FilterRule[] }
  | { readonly any: readonly FilterRule[] }
  | { readonly not: FilterRule };

export const FILTER_SPEC_EXPECTS =
  'a JSON filter rule such as {"field":"amount","gte":100}, {"dropEveryNth":10}, {"all":[...]}, {"any":[...]} or {"not":{...}}';

function invalid(detail: string): ConvoyError {
  return new ConvoyError('WORKER_FILTER_INVALID', `invalid filter rule: ${detail}`);
}

/** Parses and validates a rule from its JSON text or an already parsed value; throws `WORKER_FILTER_INVALID`. */
export function parseFilterRule(spec: unknown): FilterRule {
  let value = spec;
  if (typeof spec === 'string') {
    try {
      value = JSON.parse(spec) as unknown;
    } catch {
      throw invalid(`not JSON: ${spec}`);
    }
  }
  return parseRule(value, '$');
}

function parseRule(value: unknown, path: string): FilterRule {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid(`${path} must be an object`);
  const rule = value as Record<string, unknown>;
  const keys = Object.keys(rule);
  if ('dropEveryNth' in rule) {
    const n = rule.dropEveryNth;
    if (keys.length !== 1 || typeof n !== 'number' || !Number.isSafeInteger(n) || n < 2) {
      throw invalid(`${path}.dropEveryNth must be an integer >= 2 and alone in its object`);
    }
    return { dropEveryNth: n };
  }
  for (const combinator of ['all', 'any'] as const) {
    if (combinator in rule) {
      const list = rule[combinator];
      if (keys.length !== 1 || !Array.isArray(list) || list.length === 0) throw invalid(`${path}.${combinator} must be a non-empty array alone in its object`);
      const rules = list.map((item, i) => parseRule(item, `${path}.${combinator}[${i}]`));
      return combinator === 'all' ? { all: rules } : { any: rules };
    }
  }
  if ('not' in rule) {
    if (keys.length !== 1) throw invalid(`${path}.not must be alone in its object`);
    return { not: parseRule(rule.not, `${path}.not`) };
  }
  if (typeof rule.field !== 'string' || rule.field === '') throw invalid(`${path} needs "field", "dropEveryNth", "all", "any" or "not"`);
  const ops = keys.filter((k) => k !== 'field');
  if (ops.length !== 1 || !(COMPARISONS as readonly string[]).includes(ops[0] as string)) {
    throw invalid(`${path} needs exactly one of ${COMPARISONS.join(', ')} beside "field"`);
  }
  const op = ops[0] as Comparison;
  const operand = rule[op];
  if ((op === 'gt' || op === 'gte' || op === 'lt' || op === 'lte') && typeof operand !== 'number' && typeof operand !== 'string') {
    throw invalid(`${path}.${op} must be a number or a string`);
  }
  if (op === 'in' && !Array.isArray(operand)) throw invalid(`${path}.in must be an array`);
  if (op === 'exists' && typeof operand !== 'boolean') throw invalid(`${path}.exists must be true or false`);
  return { field: rule.field, op, operand };
}

/** True when the rule (or one nested in it) reads the payload. */
export function needsPayload(rule: FilterRule): boolean {
  if ('field' in rule) return true;
  if ('all' in rule) return rule.all.some(needsPayload);
  if ('any' in rule) return rule.any.some(needsPayload);
  if ('not' in rule) return needsPayload(rule.not);
  return false;
}

/** The sampling rule's verdict alone, for tests that must know the dropped set: true = dropped. */
export function droppedByEveryNth(seq: number, n: number): boolean {
  return (seq + 1) % n === 0;
}

function readPath(payload: unknown, path: string): { found: boolean; value: unknown } {
  let current = payload;
  for (const part of path.split('.')) {
    if (typeof current !== 'object' || current === null || !(part in current)) return { found: false, value: undefined };
    current = (current as Record<string, unknown>)[part];
  }
  return { found: true, value: current };
}

function compare(op: Comparison, found: boolean, value: unknown, operand: unknown): boolean {
  switch (op) {
    case 'exists':
      return found === operand;
    case 'eq':
      return found && value === operand;
    case 'ne':
      return !found || value !== operand;
    case 'in':
      return found && (operand as unknown[]).includes(value);
    default: {
      if (!found || typeof value !== typeof operand) return false;
      const a = value as number | string;
      const b = operand as number | string;
      if (op === 'gt') return a > b;
      if (op === 'gte') return a >= b;
      if (op === 'lt') return a < b;
      return a <= b;
    }
  }
}

/** Evaluates a keep-predicate; `payload` is only read by field rules. True = keep. */
export function evaluateFilter(rule: FilterRule, seq: number, payload: unknown): boolean {
  if ('dropEveryNth' in rule) return !droppedByEveryNth(seq, rule.dropEveryNth);
  if ('all' in rule) return rule.all.every((r) => evaluateFilter(r, seq, payload));
  if ('any' in rule) return rule.any.some((r) => evaluateFilter(r, seq, payload));
  if ('not' in rule) return !evaluateFilter(rule.not, seq, payload);
  const { found, value } = readPath(payload, rule.field);
  return compare(rule.op, found, value, rule.operand);
}

/** Keeps the event unchanged (same bytes) when the rule holds; null otherwise. Sync unless a field rule needs the payload. */
export function createFilterProcessor(rule: FilterRule): Processor {
  if (!needsPayload(rule)) return (event) => (evaluateFilter(rule, event.seq, undefined) ? { value: event.value } : null);
  return async (event: WorkerEvent, context: { codec: PayloadCodec }) => {
    const payload = event.value === null ? null : await context.codec.decode(event.value);
    return evaluateFilter(rule, event.seq, payload) ? { value: event.value } : null;
  };
}
