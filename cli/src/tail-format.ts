import { MAGIC_BYTE, type Codec } from '@convoy/codecs';
import { errorMessage } from '@convoy/errors';
import { decodeEnvelope, type ConvoyRecord, type Envelope } from '@convoy/kafka';

/** A value as shown: parsed JSON (or a decoded registry-framed value), text, or hex for binary. */
export type ShownValue = { kind: 'json'; value: unknown; schemaId?: number } | { kind: 'text'; text: string } | { kind: 'binary'; hex: string; bytes: number } | { kind: 'null' };

const MAX_HEX_BYTES = 64;

function isPrintable(text: string): boolean {
  return !/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffd]/.test(text);
}

/**
 * How a value is shown: registry-framed bytes decoded through the codec (when a registry is
 * configured), else JSON when it parses, else UTF-8 text when printable, else hex.
 */
export async function showValue(bytes: Buffer | null, codec: Pick<Codec, 'hasRegistry' | 'decode'> | undefined): Promise<ShownValue> {
  if (bytes === null) return { kind: 'null' };
  if (codec?.hasRegistry === true && bytes.length >= 5 && bytes[0] === MAGIC_BYTE) {
    try {
      const decoded = await codec.decode(bytes);
      return decoded.schemaId === undefined ? { kind: 'json', value: decoded.value } : { kind: 'json', value: decoded.value, schemaId: decoded.schemaId };
    } catch {
      // not decodable through the registry: shown as bytes below
    }
  }
  const text = bytes.toString('utf8');
  try {
    return { kind: 'json', value: JSON.parse(text) };
  } catch {
    if (isPrintable(text)) return { kind: 'text', text };
    return { kind: 'binary', hex: bytes.subarray(0, MAX_HEX_BYTES).toString('hex'), bytes: bytes.length };
  }
}

export function valueText(v: ShownValue): string {
  switch (v.kind) {
    case 'null':
      return 'null';
    case 'json':
      return `${v.schemaId === undefined ? '' : `<schema ${v.schemaId}> `}${JSON.stringify(v.value)}`;
    case 'text':
      return JSON.stringify(v.text);
    case 'binary':
      return `0x${v.hex}${v.bytes > MAX_HEX_BYTES ? `… (${v.bytes} bytes)` : ''}`;
  }
}

const ENVELOPE_HEADERS = new Set(['convoy-kind', 'convoy-seq', 'convoy-prev', 'convoy-source', 'convoy-event-time', 'convoy-substream', 'convoy-epoch', 'convoy-substreams', 'convoy-epoch-start', 'convoy-late']);

export type EnvelopeView = { ok: true; envelope: Envelope | undefined } | { ok: false; problem: string };

/**
 * The envelope (docs/wire-contract.md) from the envelope headers alone: stage-specific `convoy-*`
 * headers (dead-letter reasons, aggregator results, ...) are shown as plain headers instead.
 */
export function envelopeOf(headers: ConvoyRecord['headers']): EnvelopeView {
  const envelopeHeaders: ConvoyRecord['headers'] = {};
  for (const name of ENVELOPE_HEADERS) if (headers[name] !== undefined) envelopeHeaders[name] = headers[name];
  try {
    return { ok: true, envelope: decodeEnvelope(envelopeHeaders) };
  } catch (error) {
    return { ok: false, problem: errorMessage(error) };
  }
}

function envelopeText(view: EnvelopeView): string {
  if (!view.ok) return `[convoy headers malformed: ${view.problem}]`;
  const e = view.envelope;
  if (e === undefined) return '';
  const parts: string[] = [e.kind];
  if (e.seq !== undefined) parts.push(`seq=${e.seq}`);
  if (e.prev !== undefined) parts.push(`prev=${e.prev}`);
  if (e.source !== undefined) parts.push(`source=${e.source.topic}/${e.source.partition}`);
  if (e.eventTime !== undefined) parts.push(`event-time=${new Date(e.eventTime).toISOString()}`);
  if (e.substream !== undefined) parts.push(`substream=${e.substream}`);
  if (e.epoch !== undefined) parts.push(`epoch=${e.epoch}`);
  if (e.substreams !== undefined) parts.push(`substreams=${e.substreams}`);
  if (e.epochStart !== undefined) parts.push(`epoch-start=${e.epochStart}`);
  if (e.late === true) parts.push('late');
  return `[${parts.join(' ')}]`;
}

/** Headers other than the envelope, as text; Spring's binary origin headers and Connect's duplicates are left out (the convoy-error-* ones say it). */
function otherHeaders(headers: ConvoyRecord['headers']): [string, string][] {
  const out: [string, string][] = [];
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || ENVELOPE_HEADERS.has(name) || name.startsWith('kafka_dlt-') || name.startsWith('__connect.errors.exception')) continue;
    out.push([name, value.toString('utf8')]);
  }
  return out;
}

/**
 * One record on one line:
 * `p1 @42 2026-…Z key=customer-7 [data seq=42 prev=40 source=convoy.input/1] {"orderId":…}`,
 * then any other header as `name=value`, then the value.
 */
export function formatRecord(record: ConvoyRecord, value: ShownValue): string {
  const parts = [`p${record.partition}`, `@${record.offset}`, Number.isFinite(record.timestamp) ? new Date(record.timestamp).toISOString() : String(record.timestamp)];
  parts.push(`key=${record.key === null ? 'null' : JSON.stringify(record.key.toString('utf8'))}`);
  const envelope = envelopeText(envelopeOf(record.headers));
  if (envelope !== '') parts.push(envelope);
  for (const [name, text] of otherHeaders(record.headers)) parts.push(`${name}=${/^[\w./:@-]*$/.test(text) ? text : JSON.stringify(text)}`);
  parts.push(valueText(value));
  return parts.join(' ');
}

/** The same record as one JSON object (for `--json`). */
export function recordJson(record: ConvoyRecord, value: ShownValue): Record<string, unknown> {
  const view = envelopeOf(record.headers);
  return {
    topic: record.topic,
    partition: record.partition,
    offset: record.offset,
    timestamp: record.timestamp,
    key: record.key === null ? null : record.key.toString('utf8'),
    envelope: view.ok ? (view.envelope ?? null) : { malformed: view.problem },
    headers: Object.fromEntries(otherHeaders(record.headers)),
    value: value.kind === 'json' ? value.value : value.kind === 'text' ? value.text : value.kind === 'binary' ? { hex: value.hex, bytes: value.bytes } : null,
  };
}
