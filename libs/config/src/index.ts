export { Secret } from './secret.ts';
export type { CrossCheck, Field, FieldValue, ParseResult, Presence } from './fields.ts';
export { bool, bytes, duration, field, formatDuration, hostPort, int, list, num, oneOf, secret, str, url } from './fields.ts';
export type { Config, ConfigProblem, Schema } from './load.ts';
export { CONFIG_INVALID, describeSchema, loadConfig } from './load.ts';
export type { ConnectionConfig } from './connection.ts';
export { connectionFields, LOG_LEVELS, SASL_MECHANISMS } from './connection.ts';
