/**
 * Where the splitter finds a record's customer ID and event time. Parsing is done once at start
 * (config); extraction is pure and per record.
 */
import { eventTimeFromText } from '@convoy/kafka';

export type { AttributeSource, EventTimeSource, KeySource } from '@convoy/kafka';
export { describeSource, parseEventTimeSource, parseKeySource } from '@convoy/kafka';

/**
 * Customer ID bytes from a payload field: strings as UTF-8 (as Java's StringSerializer writes
 * them, so a producer keyed by that string would hash the same bytes), integers and bigints as
 * their decimal text. Anything else (missing, empty, object, boolean, fraction) is no ID.
 */
export function customerIdFromValue(value: unknown): Buffer | undefined {
  if (typeof value === 'string') return value === '' ? undefined : Buffer.from(value, 'utf8');
  if (typeof value === 'number' && Number.isSafeInteger(value)) return Buffer.from(String(value), 'utf8');
  if (typeof value === 'bigint') return Buffer.from(value.toString(), 'utf8');
  return undefined;
}

/**
 * Event time in ms since the epoch from a header text or a payload field: a number of ms (a
 * decimal string counts) or an ISO-8601 date-time. Undefined when it is neither.
 */
export function eventTimeFromValue(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) ? value : Number.isFinite(value) ? Math.trunc(value) : undefined;
  if (typeof value === 'bigint') return Number.isSafeInteger(Number(value)) ? Number(value) : undefined;
  return typeof value === 'string' ? eventTimeFromText(value) : undefined;
}
