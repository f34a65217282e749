/**
 * Classification mode: ordered rules over a record's decoded payload pick a named topic.
 * First match wins; a record no rule matches goes to the default topic.
 */
import { fieldAt } from '@convoy/codecs';

/** One test on one field. Every operator given must hold. */
export interface Condition {
  readonly eq?: string | number | boolean;
  readonly gte?: number;
  readonly gt?: number;
  readonly lt?: number;
  readonly lte?: number;
  readonly in?: readonly (string | number | boolean)[];
}

export interface ClassificationRule {
  /** Dot path in the payload → condition. Every condition must hold (an empty `when` always matches). */
  readonly when: Readonly<Record<string, Condition>>;
  readonly topic: string;
}

/** A validated rule, conditions in a fixed order. */
export interface CompiledRule {
  readonly topic: string;
  readonly tests: readonly { readonly path: string; readonly condition: Condition }[];
}

/** A validated rule set: the first rule whose every test holds decides the topic. */
export interface RuleSet {
  readonly name: string;
  readonly rules: readonly CompiledRule[];
}

function compileRule(rule: ClassificationRule): CompiledRule {
  return { topic: rule.topic, tests: Object.entries(rule.when).map(([path, condition]) => ({ path, condition })) };
}

const OPERATORS = ['eq', 'gte', 'gt', 'lt', 'lte', 'in'] as const;
const TOPIC_NAME = /^[a-zA-Z0-9._-]{1,249}$/;

/**
 * The seed's example: delivery tier from customer grade and order amount.
 * - gold/platinum customers with an order of at least 100 → same day;
 * - other gold/platinum orders, and any order of at least 500 → next day;
 * - everything else → the default topic (weekly).
 */
export function deliveryTierRules(prefix = 'convoy.delivery.'): RuleSet {
  return {
    name: 'delivery-tier',
    rules: ([
      { when: { 'customer.grade': { in: ['gold', 'platinum'] }, 'order.amount': { gte: 100 } }, topic: `${prefix}same-day` },
      { when: { 'customer.grade': { in: ['gold', 'platinum'] } }, topic: `${prefix}next-day` },
      { when: { 'order.amount': { gte: 500 } }, topic: `${prefix}next-day` },
    ] as ClassificationRule[]).map(compileRule),
  };
}

export const DEFAULT_DELIVERY_TOPIC = 'convoy.delivery.weekly';

export type CompileResult = { ok: true; ruleSet: RuleSet } | { ok: false; problem: string };

function isScalar(value: unknown): value is string | number | boolean {
  return typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value)) || typeof value === 'boolean';
}

function compileCondition(where: string, raw: unknown): string | undefined {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return `${where} must be an object of ${OPERATORS.join('|')}`;
  const entries = Object.entries(raw);
  if (entries.length === 0) return `${where} has no operator (${OPERATORS.join('|')})`;
  for (const [op, operand] of entries) {
    if (op === 'eq') {
      if (!isScalar(operand)) return `${where}.eq must be a string, number or boolean`;
    } else if (op === 'gte' || op === 'gt' || op === 'lt' || op === 'lte') {
      if (typeof operand !== 'number' || !Number.isFinite(operand)) return `${where}.${op} must be a number`;
    } else if (op === 'in') {
      if (!Array.isArray(operand) || operand.length === 0 || !operand.every(isScalar)) return `${where}.in must be a non-empty array of strings, numbers or booleans`;
    } else {
      return `${where} has unknown operator "${op}" (accepted: ${OPERATORS.join(', ')})`;
    }
  }
  return undefined;
}

/** Validates rules given as JSON text: an ordered array of `{ "when": { "<dot.path>": { op: operand } }, "topic": "<name>" }`. */
export function compileRules(text: string): CompileResult {
  if (text === 'delivery-tier') return { ok: true, ruleSet: deliveryTierRules() };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return { ok: false, problem: `not JSON: ${(error as Error).message}` };
  }
  if (!Array.isArray(parsed)) return { ok: false, problem: 'must be a JSON array of rules' };
  if (parsed.length === 0) return { ok: false, problem: 'has no rules' };
  const rules: CompiledRule[] = [];
  for (const [index, rule] of parsed.entries()) {
    const where = `rule ${index}`;
    if (typeof rule !== 'object' || rule === null || Array.isArray(rule)) return { ok: false, problem: `${where} must be an object with "when" and "topic"` };
    const { when, topic, ...extra } = rule as Record<string, unknown>;
    const unknownKey = Object.keys(extra)[0];
    if (unknownKey !== undefined) return { ok: false, problem: `${where} has unknown key "${unknownKey}"` };
    if (typeof topic !== 'string' || !TOPIC_NAME.test(topic)) return { ok: false, problem: `${where}.topic must be a topic name` };
    if (typeof when !== 'object' || when === null || Array.isArray(when)) return { ok: false, problem: `${where}.when must be an object of field → condition` };
    for (const [path, condition] of Object.entries(when)) {
      if (path === '' || path.split('.').some((segment) => segment === '')) return { ok: false, problem: `${where}.when has an invalid field path "${path}"` };
      const problem = compileCondition(`${where}.when["${path}"]`, condition);
      if (problem !== undefined) return { ok: false, problem };
    }
    rules.push(compileRule({ when: when as Record<string, Condition>, topic }));
  }
  return { ok: true, ruleSet: { name: 'custom', rules } };
}

function holds(condition: Condition, value: unknown): boolean {
  if (condition.eq !== undefined && value !== condition.eq) return false;
  if (condition.in !== undefined && !condition.in.some((candidate) => candidate === value)) return false;
  const numeric = condition.gte !== undefined || condition.gt !== undefined || condition.lt !== undefined || condition.lte !== undefined;
  if (numeric) {
    if (typeof value !== 'number' || !Number.isFinite(value)) return false;
    if (condition.gte !== undefined && !(value >= condition.gte)) return false;
    if (condition.gt !== undefined && !(value > condition.gt)) return false;
    if (condition.lt !== undefined && !(value < condition.lt)) return false;
    if (condition.lte !== undefined && !(value <= condition.lte)) return false;
  }
  return true;
}

/** The topic of the first rule whose every condition holds on `payload`, else `defaultTopic`. A missing field fails its condition. */
export function classify(ruleSet: RuleSet, payload: unknown, defaultTopic: string): string {
  for (const rule of ruleSet.rules) {
    let matches = true;
    for (const { path, condition } of rule.tests) {
      if (!holds(condition, fieldAt(payload, path))) {
        matches = false;
        break;
      }
    }
    if (matches) return rule.topic;
  }
  return defaultTopic;
}
