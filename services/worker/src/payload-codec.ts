import type { Codec } from '@convoy/codecs';
import { MAGIC_BYTE } from '@convoy/codecs';
import type { PayloadCodec } from './processor.ts';

/** The schema id of a Confluent-framed payload, undefined for plain bytes. */
export function framedSchemaId(bytes: Buffer | null): number | undefined {
  return bytes !== null && bytes.length >= 5 && bytes[0] === MAGIC_BYTE ? bytes.readUInt32BE(1) : undefined;
}

/**
 * Adapts @convoy/codecs to the processor's `PayloadCodec`: decode gives the value alone; encode
 * writes plain JSON for a plain original and re-encodes with the original's schema id for a framed
 * one. Fields the schema lacks are then dropped (Avro) or rejected (a closed JSON Schema,
 * `CODEC_ENCODE_FAILED`, dead-lettered): see the README.
 */
export function payloadCodec(codec: Codec): PayloadCodec {
  return {
    decode: async (bytes) => (await codec.decode(bytes)).value,
    encode: (value, like) => codec.encode(framedSchemaId(like), value),
  };
}
