import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { ConvoyError } from '@convoy/errors';

export const CODEC_UNKNOWN_SCHEMA = 'CODEC_UNKNOWN_SCHEMA';
export const CODEC_DECODE_FAILED = 'CODEC_DECODE_FAILED';
export const CODEC_ENCODE_FAILED = 'CODEC_ENCODE_FAILED';
export const CODEC_VALUE_TOO_LARGE = 'CODEC_VALUE_TOO_LARGE';
export const CODEC_REGISTRY_UNAVAILABLE = 'CODEC_REGISTRY_UNAVAILABLE';
export const CODEC_NO_REGISTRY = 'CODEC_NO_REGISTRY';
export const CODEC_SCHEMA_REJECTED = 'CODEC_SCHEMA_REJECTED';
export const CODEC_REGISTRY_UNAUTHORIZED = 'CODEC_REGISTRY_UNAUTHORIZED';

/** Confluent wire format: magic byte 0, then a 4-byte big-endian schema id, then the payload. */
export const MAGIC_BYTE = 0;

export type SchemaFormat = 'avro' | 'json';

export interface CodecOptions {
  /** e.g. http://127.0.0.1:8081/apis/ccompat/v7. Unset: plain JSON only. */
  registryUrl?: string;
  auth?: { username: string; password: string };
  /** Largest value accepted by encode and decode. Default 1 MiB (Kafka's default max message size). */
  maxValueBytes?: number;
  /** Registry HTTP retries before CODEC_REGISTRY_UNAVAILABLE. Default 2. */
  registryRetries?: number;
}

/** The registry part of the shared connection config (`connectionFields` in @convoy/config). */
export interface RegistryConnection {
  readonly SCHEMA_REGISTRY_URL?: string | undefined;
  readonly SCHEMA_REGISTRY_USERNAME?: string | undefined;
  readonly SCHEMA_REGISTRY_PASSWORD?: { reveal(): string } | undefined;
}

/**
 * `registryUrl` and HTTP basic `auth` for `createCodec` from the shared config. The password is
 * revealed only into the returned options, which go to the registry client and are never logged.
 */
export function registryOptionsFrom(conn: RegistryConnection): Pick<CodecOptions, 'registryUrl' | 'auth'> {
  if (conn.SCHEMA_REGISTRY_URL === undefined) return {};
  if (conn.SCHEMA_REGISTRY_USERNAME === undefined || conn.SCHEMA_REGISTRY_PASSWORD === undefined) return { registryUrl: conn.SCHEMA_REGISTRY_URL };
  return {
    registryUrl: conn.SCHEMA_REGISTRY_URL,
    auth: { username: conn.SCHEMA_REGISTRY_USERNAME, password: conn.SCHEMA_REGISTRY_PASSWORD.reveal() },
  };
}

export interface Decoded {
  /** Plain JSON: the parsed value. Avro: records come back as avsc record instances (own enumerable fields). */
  value: unknown;
  /** The registry schema id when the bytes were registry framed. */
  schemaId?: number;
}

/**
 * Payload codec. With a registry: Confluent-framed Avro and JSON Schema (framed bytes are decoded
 * by the schema id they carry, whatever `format` the caller expects). Without one: UTF-8 JSON.
 * Every failure is a `ConvoyError`: bad bytes `CODEC_DECODE_FAILED`, unknown schema id
 * `CODEC_UNKNOWN_SCHEMA`, oversized `CODEC_VALUE_TOO_LARGE` (all not retriable: dead-letter the
 * record); registry unreachable or 5xx `CODEC_REGISTRY_UNAVAILABLE` (retriable: try again later).
 */
export interface Codec {
  readonly hasRegistry: boolean;
  /** Registers (or finds) a schema under `subject`; returns its id. Needs a registry. */
  register(subject: string, schema: string | object, format: SchemaFormat): Promise<number>;
  /** Framed bytes for `value` under schema `schemaId`; plain JSON when `schemaId` is undefined. */
  encode(schemaId: number | undefined, value: unknown): Promise<Buffer>;
  /** Framed bytes (magic byte 0) are decoded through the registry; anything else as UTF-8 JSON. */
  decode(bytes: Buffer): Promise<Decoded>;
}

interface HttpLikeError {
  name?: string;
  status?: number;
  message?: string;
  code?: string;
}

function isFramed(bytes: Buffer): boolean {
  return bytes.length >= 5 && bytes[0] === MAGIC_BYTE;
}

function registryFailure(error: unknown, what: string, context: Record<string, unknown>): ConvoyError {
  const e = (typeof error === 'object' && error !== null ? error : {}) as HttpLikeError;
  const status = typeof e.status === 'number' ? e.status : undefined;
  const message = `${what}: ${e.message ?? String(error)}`;
  // mappersmith reports a refused or dropped connection as a synthetic status 400 "...ECONNREFUSED...".
  const network = /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|socket hang up|timeout/i.test(e.message ?? '');
  if (status === 401 || status === 403) {
    return new ConvoyError(
      CODEC_REGISTRY_UNAUTHORIZED,
      `${what}: the schema registry refused the credentials (HTTP ${status}): check SCHEMA_REGISTRY_USERNAME and SCHEMA_REGISTRY_PASSWORD`,
      { cause: error, context: { ...context, status } },
    );
  }
  if (network || status === undefined || status >= 500 || status === 429 || status === 408) {
    return new ConvoyError(CODEC_REGISTRY_UNAVAILABLE, message, { retriable: true, cause: error, context: { ...context, status } });
  }
  return new ConvoyError(CODEC_SCHEMA_REJECTED, message, { cause: error, context: { ...context, status } });
}

export function createCodec(options: CodecOptions = {}): Codec {
  const maxValueBytes = options.maxValueBytes ?? 1024 * 1024;
  const registry =
    options.registryUrl === undefined
      ? undefined
      : new SchemaRegistry({
          host: options.registryUrl.replace(/\/+$/, ''),
          retry: { retries: options.registryRetries ?? 2, initialRetryTimeInSecs: 0.1, maxRetryTimeInSecs: 2 },
          ...(options.auth === undefined ? {} : { auth: { username: options.auth.username, password: options.auth.password } }),
        });

  const tooLarge = (size: number, what: string) =>
    new ConvoyError(CODEC_VALUE_TOO_LARGE, `${what} is ${size} bytes, more than the ${maxValueBytes} allowed`, {
      context: { size, maxValueBytes },
    });

  const needRegistry = (): SchemaRegistry => {
    if (registry === undefined) throw new ConvoyError(CODEC_NO_REGISTRY, 'no schema registry is configured (SCHEMA_REGISTRY_URL)');
    return registry;
  };

  return {
    hasRegistry: registry !== undefined,

    async register(subject, schema, format) {
      const reg = needRegistry();
      const text = typeof schema === 'string' ? schema : JSON.stringify(schema);
      try {
        const { id } = await reg.register({ type: format === 'avro' ? SchemaType.AVRO : SchemaType.JSON, schema: text }, { subject });
        return id;
      } catch (error) {
        if ((error as HttpLikeError).name?.startsWith('ConfluentSchemaRegistry') === true) {
          throw new ConvoyError(CODEC_SCHEMA_REJECTED, `schema for ${subject} rejected: ${(error as Error).message}`, { cause: error, context: { subject } });
        }
        throw registryFailure(error, `registering a schema for ${subject} failed`, { subject });
      }
    },

    async encode(schemaId, value) {
      let bytes: Buffer;
      if (schemaId === undefined) {
        const text = JSON.stringify(value);
        if (text === undefined) throw new ConvoyError(CODEC_ENCODE_FAILED, 'value has no JSON form');
        bytes = Buffer.from(text, 'utf8');
      } else {
        const reg = needRegistry();
        try {
          bytes = await reg.encode(schemaId, value);
        } catch (error) {
          const name = (error as HttpLikeError).name ?? '';
          if (name.startsWith('ConfluentSchemaRegistry') || (error as HttpLikeError).status === undefined) {
            if (name === 'ResponseError' || /ECONN|socket/i.test((error as Error).message ?? '')) throw registryFailure(error, 'encode', { schemaId });
            throw new ConvoyError(CODEC_ENCODE_FAILED, `value does not fit schema ${schemaId}: ${(error as Error).message}`, { cause: error, context: { schemaId } });
          }
          if ((error as HttpLikeError).status === 404) throw new ConvoyError(CODEC_UNKNOWN_SCHEMA, `schema id ${schemaId} is unknown to the registry`, { cause: error, context: { schemaId } });
          throw registryFailure(error, 'encode', { schemaId });
        }
      }
      if (bytes.length > maxValueBytes) throw tooLarge(bytes.length, 'encoded value');
      return bytes;
    },

    async decode(bytes) {
      if (bytes.length > maxValueBytes) throw tooLarge(bytes.length, 'value');
      if (registry !== undefined && isFramed(bytes)) {
        const schemaId = bytes.readUInt32BE(1);
        try {
          return { value: await registry.decode(bytes), schemaId };
        } catch (error) {
          const e = error as HttpLikeError;
          if (e.name === 'ResponseError' || /ECONN|socket hang up/i.test(e.message ?? '')) {
            if (e.status === 404) {
              throw new ConvoyError(CODEC_UNKNOWN_SCHEMA, `schema id ${schemaId} is unknown to the registry`, { cause: error, context: { schemaId } });
            }
            throw registryFailure(error, `fetching schema ${schemaId} failed`, { schemaId });
          }
          throw new ConvoyError(CODEC_DECODE_FAILED, `bytes do not decode with schema ${schemaId}: ${e.message ?? String(error)}`, {
            cause: error,
            context: { schemaId },
          });
        }
      }
      try {
        return { value: JSON.parse(bytes.toString('utf8')) as unknown };
      } catch (error) {
        const why = bytes[0] === MAGIC_BYTE ? 'registry-framed bytes, but no schema registry is configured' : (error as Error).message;
        throw new ConvoyError(CODEC_DECODE_FAILED, `value is not JSON: ${why}`, { cause: error });
      }
    },
  };
}
