import { readFileSync } from 'node:fs';
import { Kafka, logLevel } from 'kafkajs';
import type { Admin, KafkaConfig, LogEntry, SASLOptions } from 'kafkajs';
import type { ConnectionConfig } from '@convoy/config';
import type { Logger } from '@convoy/logging';
import { ConvoyError } from '@convoy/errors';
import { KAFKA_TLS_FILE_UNREADABLE } from './errors.ts';

/** The part of `ConnectionConfig` (from `connectionFields`) this port reads. */
export type KafkaConnection = Pick<
  ConnectionConfig,
  | 'KAFKA_BROKERS'
  | 'KAFKA_SSL'
  | 'KAFKA_SASL_MECHANISM'
  | 'KAFKA_SASL_USERNAME'
  | 'KAFKA_SASL_PASSWORD'
  | 'KAFKA_TLS_CA_FILE'
  | 'KAFKA_TLS_CERT_FILE'
  | 'KAFKA_TLS_KEY_FILE'
>;

export interface KafkaClientOptions {
  logger: Logger;
  clientId: string;
  /** Injected for tests; default `fs.readFileSync`. */
  readFile?: (path: string) => Buffer;
}

/**
 * Reconnect and backoff, for every request kafkajs makes (metadata, produce, fetch, commit, join):
 * exponential from 300 ms, doubling, ±20 % jitter, capped at 30 s per wait, 10 retries (about three
 * minutes in all). A broker restart or a leader election fits well inside that. When the retries
 * are exhausted the error surfaces, classified by `classifyKafkaError` with its cause's retriable
 * flag; the consumer restarts itself on retriable crashes, and the partition processor retries a
 * failed transaction with its own backoff before giving up.
 */
export const RETRY = { initialRetryTime: 300, maxRetryTime: 30_000, factor: 0.2, multiplier: 2, retries: 10 } as const;
export const CONNECTION_TIMEOUT_MS = 5_000;
export const REQUEST_TIMEOUT_MS = 30_000;

function readPem(variable: string, path: string, readFile: (path: string) => Buffer): Buffer {
  try {
    return readFile(path);
  } catch (error) {
    throw new ConvoyError(KAFKA_TLS_FILE_UNREADABLE, `${variable}=${JSON.stringify(path)} cannot be read: ${(error as Error).message}`, {
      cause: error,
      context: { variable, path },
    });
  }
}

/** kafkajs levels → pino methods. kafkajs INFO is lifecycle chatter (joins, starts): kept at info. */
function pinoMethod(level: number): 'error' | 'warn' | 'info' | 'debug' {
  if (level === logLevel.ERROR) return 'error';
  if (level === logLevel.WARN) return 'warn';
  if (level === logLevel.INFO) return 'info';
  return 'debug';
}

function kafkajsLevel(logger: Logger): number {
  switch (logger.level) {
    case 'silent':
      return logLevel.NOTHING;
    case 'fatal':
    case 'error':
      return logLevel.ERROR;
    case 'warn':
      return logLevel.WARN;
    case 'info':
      return logLevel.INFO;
    default:
      return logLevel.DEBUG;
  }
}

/**
 * Routes kafkajs's own log lines into our pino logger as `{ component: 'kafkajs', namespace, ...extra }`.
 * kafkajs never puts SASL credentials in log extras; our logger redacts `sasl`/`password` anyway.
 */
export function kafkajsLogCreator(logger: Logger): () => (entry: LogEntry) => void {
  const child = logger.child({ component: 'kafkajs' });
  return () =>
    ({ namespace, level, log }: LogEntry) => {
      const { message, timestamp: _timestamp, ...extra } = log;
      child[pinoMethod(level)]({ namespace, ...extra }, message);
    };
}

/**
 * Maps the shared connection config to kafkajs options (pure apart from reading the TLS files).
 * SASL plain / scram-sha-256 / scram-sha-512; TLS with optional CA, client cert and key files.
 * An unreadable file throws `KAFKA_TLS_FILE_UNREADABLE` naming the variable. The password is
 * revealed only into the returned object, which is handed to kafkajs and never logged.
 */
export function kafkaConfigFrom(conn: KafkaConnection, options: KafkaClientOptions): KafkaConfig {
  const readFile = options.readFile ?? ((path: string) => readFileSync(path));
  const config: KafkaConfig = {
    clientId: options.clientId,
    brokers: [...conn.KAFKA_BROKERS],
    connectionTimeout: CONNECTION_TIMEOUT_MS,
    requestTimeout: REQUEST_TIMEOUT_MS,
    retry: { ...RETRY },
    logLevel: kafkajsLevel(options.logger),
    logCreator: kafkajsLogCreator(options.logger),
  };
  if (conn.KAFKA_SSL) {
    const hasFiles = conn.KAFKA_TLS_CA_FILE !== undefined || conn.KAFKA_TLS_CERT_FILE !== undefined;
    if (!hasFiles) {
      config.ssl = true;
    } else {
      const ssl: { ca?: Buffer[]; cert?: Buffer; key?: Buffer } = {};
      if (conn.KAFKA_TLS_CA_FILE !== undefined) ssl.ca = [readPem('KAFKA_TLS_CA_FILE', conn.KAFKA_TLS_CA_FILE, readFile)];
      if (conn.KAFKA_TLS_CERT_FILE !== undefined) ssl.cert = readPem('KAFKA_TLS_CERT_FILE', conn.KAFKA_TLS_CERT_FILE, readFile);
      if (conn.KAFKA_TLS_KEY_FILE !== undefined) ssl.key = readPem('KAFKA_TLS_KEY_FILE', conn.KAFKA_TLS_KEY_FILE, readFile);
      config.ssl = ssl;
    }
  }
  if (conn.KAFKA_SASL_MECHANISM !== undefined && conn.KAFKA_SASL_USERNAME !== undefined && conn.KAFKA_SASL_PASSWORD !== undefined) {
    config.sasl = {
      mechanism: conn.KAFKA_SASL_MECHANISM,
      username: conn.KAFKA_SASL_USERNAME,
      password: conn.KAFKA_SASL_PASSWORD.reveal(),
    } as SASLOptions;
  }
  return config;
}

/** The broker refused the SASL credentials: not retriable, the configuration must change. */
export const KAFKA_AUTHENTICATION_FAILED = 'KAFKA_AUTHENTICATION_FAILED';

function findSaslFailure(error: unknown): Error | undefined {
  let current: unknown = error;
  for (let depth = 0; typeof current === 'object' && current !== null && depth < 5; depth++) {
    const e = current as { name?: unknown; originalError?: unknown; cause?: unknown };
    if (e.name === 'KafkaJSSASLAuthenticationError') return current as Error;
    current = e.originalError ?? e.cause;
  }
  return undefined;
}

/**
 * A kafkajs SASL failure (possibly wrapped) as `KAFKA_AUTHENTICATION_FAILED`, naming the settings to
 * check and the broker's reason; undefined for any other error. Only the mechanism and user name
 * are shown: the broker's reason never holds the password, and neither does this message.
 */
export function authenticationFailure(error: unknown, sasl: { mechanism: string; username: string } | undefined): ConvoyError | undefined {
  const failure = findSaslFailure(error);
  if (failure === undefined) return undefined;
  const who = sasl === undefined ? '' : ` (KAFKA_SASL_MECHANISM=${sasl.mechanism}, KAFKA_SASL_USERNAME=${JSON.stringify(sasl.username)})`;
  return new ConvoyError(
    KAFKA_AUTHENTICATION_FAILED,
    `the Kafka broker rejected the SASL credentials${who}: check KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD (${failure.message})`,
    { retriable: false, cause: error, context: { mechanism: sasl?.mechanism, username: sasl?.username } },
  );
}

export interface ClusterInfo {
  readonly clusterId: string;
  readonly brokers: number;
}

/**
 * The clients of one service: a kafkajs instance plus a lazily connected, shared admin. Producers
 * and consumers are made by this package's functions (`createBatchedProducer`,
 * `runPartitionProcessor`, `runConsumer`), never by services.
 */
export class KafkaClients {
  readonly clientId: string;
  readonly logger: Logger;
  /** Consumer group session timeout: how long a killed member holds its partitions. */
  readonly sessionTimeoutMs: number;
  readonly #kafka: Kafka;
  readonly #sasl: { mechanism: string; username: string } | undefined;
  #admin: Promise<Admin> | undefined;

  constructor(config: KafkaConfig, logger: Logger, sessionTimeoutMs = 30_000) {
    this.clientId = config.clientId ?? 'convoy';
    this.logger = logger;
    this.sessionTimeoutMs = sessionTimeoutMs;
    this.#kafka = new Kafka(config);
    const sasl = config.sasl as { mechanism?: string; username?: string } | undefined;
    this.#sasl = sasl?.mechanism !== undefined && sasl.username !== undefined ? { mechanism: sasl.mechanism, username: sasl.username } : undefined;
  }

  /** Port-internal: the kafkajs instance. Services must not use it. */
  get kafkajs(): Kafka {
    return this.#kafka;
  }

  /**
   * Port-internal: the shared admin client, connected on first use. Refused SASL credentials reject
   * with `KAFKA_AUTHENTICATION_FAILED` (not retriable), so a service fails at start naming them.
   */
  admin(): Promise<Admin> {
    if (this.#admin === undefined) {
      const admin = this.#kafka.admin();
      this.#admin = admin.connect().then(
        () => admin,
        (error: unknown) => {
          this.#admin = undefined;
          throw authenticationFailure(error, this.#sasl) ?? error;
        },
      );
    }
    return this.#admin;
  }

  async clusterInfo(): Promise<ClusterInfo> {
    const cluster = await (await this.admin()).describeCluster();
    return { clusterId: cluster.clusterId, brokers: cluster.brokers.length };
  }

  /** Disconnects the shared admin. Producers and consumers are stopped by their owners. Idempotent. */
  async disconnect(): Promise<void> {
    const admin = this.#admin;
    this.#admin = undefined;
    if (admin !== undefined) await (await admin.catch(() => undefined))?.disconnect();
  }
}

/** Builds the clients from the shared connection config. Throws `KAFKA_TLS_FILE_UNREADABLE`. */
export function createKafkaClients(
  conn: KafkaConnection & { readonly KAFKA_SESSION_TIMEOUT_MS?: number },
  options: KafkaClientOptions,
): KafkaClients {
  const logger = options.logger.child({ component: 'kafka', clientId: options.clientId });
  return new KafkaClients(kafkaConfigFrom(conn, { ...options, logger }), logger, conn.KAFKA_SESSION_TIMEOUT_MS);
}
