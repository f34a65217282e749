export type { Codec, CodecOptions, Decoded, RegistryConnection, SchemaFormat } from './codec.ts';
export {
  CODEC_DECODE_FAILED,
  CODEC_ENCODE_FAILED,
  CODEC_NO_REGISTRY,
  CODEC_REGISTRY_UNAUTHORIZED,
  CODEC_REGISTRY_UNAVAILABLE,
  CODEC_SCHEMA_REJECTED,
  CODEC_UNKNOWN_SCHEMA,
  CODEC_VALUE_TOO_LARGE,
  createCodec,
  MAGIC_BYTE,
  registryOptionsFrom,
} from './codec.ts';
export { fieldAt } from './field-at.ts';
