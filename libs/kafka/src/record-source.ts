/**
 * Where a stage reads an attribute of a record (a routing key, a stream key, an event time), as
 * configured by text: `key` (the record key), `timestamp` (the record timestamp), `header:<name>`,
 * or `field:<dot.path>` (a field of the decoded payload). Parsed once at start, from config.
 */
export type AttributeSource =
  | { readonly kind: 'key' }
  | { readonly kind: 'timestamp' }
  | { readonly kind: 'header'; readonly name: string }
  | { readonly kind: 'field'; readonly path: string };

export type KeySource = Exclude<AttributeSource, { kind: 'timestamp' }>;
export type EventTimeSource = Exclude<AttributeSource, { kind: 'key' }>;

const PATH_SEGMENT = /^[^.\s]+$/;

function parsePrefixed(text: string): AttributeSource | undefined {
  const colon = text.indexOf(':');
  if (colon < 0) return undefined;
  const prefix = text.slice(0, colon);
  const rest = text.slice(colon + 1);
  if (rest === '') return undefined;
  if (prefix === 'header') return { kind: 'header', name: rest };
  if (prefix === 'field') return rest.split('.').every((segment) => PATH_SEGMENT.test(segment)) ? { kind: 'field', path: rest } : undefined;
  return undefined;
}

/** `key` | `header:<name>` | `field:<dot.path>`; undefined when the text is none of these. */
export function parseKeySource(text: string): KeySource | undefined {
  if (text === 'key') return { kind: 'key' };
  const parsed = parsePrefixed(text);
  return parsed?.kind === 'header' || parsed?.kind === 'field' ? parsed : undefined;
}

/** `timestamp` | `header:<name>` | `field:<dot.path>`; undefined when the text is none of these. */
export function parseEventTimeSource(text: string): EventTimeSource | undefined {
  if (text === 'timestamp') return { kind: 'timestamp' };
  const parsed = parsePrefixed(text);
  return parsed?.kind === 'header' || parsed?.kind === 'field' ? parsed : undefined;
}

/** The config text a source was parsed from. */
export function describeSource(source: AttributeSource): string {
  switch (source.kind) {
    case 'key':
    case 'timestamp':
      return source.kind;
    case 'header':
      return `header:${source.name}`;
    case 'field':
      return `field:${source.path}`;
  }
}

const DECIMAL_MS = /^-?\d+$/;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}/;

/**
 * Event time in ms since the epoch from text (a header, or a payload field that is a string): a
 * decimal integer of ms that is a safe integer, or an ISO-8601 date-time; white space around it is
 * ignored. Undefined when it is neither.
 */
export function eventTimeFromText(text: string): number | undefined {
  const trimmed = text.trim();
  if (DECIMAL_MS.test(trimmed)) {
    const ms = Number(trimmed);
    return Number.isSafeInteger(ms) ? ms : undefined;
  }
  if (!ISO_DATE.test(trimmed)) return undefined;
  const ms = Date.parse(trimmed);
  return Number.isNaN(ms) ? undefined : ms;
}
