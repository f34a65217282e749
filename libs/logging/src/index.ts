import { pino } from 'pino';
import type { DestinationStream, Level, Logger } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };
export type LogLevel = Level | 'silent';

export interface LoggerOptions {
  /** Service or component name, written as `name` on every line. */
  name: string;
  level?: LogLevel;
  /** Human-readable lines via pino-pretty. Default: only when stdout is a TTY and no destination is given. */
  pretty?: boolean;
  /** Where lines go (default stdout). Tests pass an in-memory stream. */
  destination?: DestinationStream;
  /** Extra redaction paths, added to SECRET_KEYS' paths. pino path syntax. */
  redact?: readonly string[];
}

/**
 * Keys whose values are replaced with '[redacted]' wherever they appear, up to three levels deep
 * (`password`, `sasl.password`, `kafka.sasl.password`, `req.headers.authorization`). `sasl` covers a
 * kafkajs SASL block as a whole. Keys match case-sensitively, so a `Headers`-style `Authorization`
 * and the environment variables holding credentials (a logged `process.env`) are listed as well;
 * a parsed config needs none of this (its `Secret`s print as '[redacted]').
 */
export const SECRET_KEYS = [
  'password',
  'sasl',
  'authorization',
  'Authorization',
  'secret',
  'token',
  'apiKey',
  'KAFKA_SASL_PASSWORD',
  'SCHEMA_REGISTRY_PASSWORD',
] as const;

function redactPaths(extra: readonly string[]): string[] {
  const paths: string[] = [];
  for (const key of SECRET_KEYS) paths.push(key, `*.${key}`, `*.*.${key}`);
  paths.push('ssl.key', '*.ssl.key');
  return [...paths, ...extra];
}

/**
 * Creates a pino logger. JSON lines by default: `level` (number), `time` (ISO), `pid`, `hostname`,
 * `name`, `msg`, and any bound or passed fields; errors go under `err` with code/retriable kept.
 * There is no global logger: the service creates one in main.ts and injects it, and each component
 * gets `logger.child({ component: '...' })`.
 */
export function createLogger(options: LoggerOptions): Logger {
  const usePretty = options.pretty ?? (options.destination === undefined && process.stdout.isTTY === true);
  const config = {
    name: options.name,
    level: options.level ?? 'info',
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: redactPaths(options.redact ?? []), censor: '[redacted]' },
  };
  if (usePretty) {
    const colorize = options.destination === undefined && process.stdout.isTTY === true;
    const prettyStream = pretty({
      colorize,
      sync: true,
      translateTime: 'SYS:HH:MM:ss.l',
      ignore: 'pid,hostname',
      ...(options.destination === undefined ? {} : { destination: options.destination }),
    });
    return pino(config, prettyStream);
  }
  return options.destination === undefined ? pino(config) : pino(config, options.destination);
}
