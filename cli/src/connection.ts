import { connectionFields, loadConfig, type Config } from '@convoy/config';
import { createCodec, type Codec } from '@convoy/codecs';
import { kafkaConfigFrom, KafkaClients, RETRY } from '@convoy/kafka';
import { createLogger, type Logger } from '@convoy/logging';

/** The connection variables the CLI reads (the same names and rules as every service). */
export const cliConnectionSchema = {
  KAFKA_BROKERS: connectionFields.KAFKA_BROKERS,
  KAFKA_SSL: connectionFields.KAFKA_SSL,
  KAFKA_SASL_MECHANISM: connectionFields.KAFKA_SASL_MECHANISM,
  KAFKA_SASL_USERNAME: connectionFields.KAFKA_SASL_USERNAME,
  KAFKA_SASL_PASSWORD: connectionFields.KAFKA_SASL_PASSWORD,
  KAFKA_TLS_CA_FILE: connectionFields.KAFKA_TLS_CA_FILE,
  KAFKA_TLS_CERT_FILE: connectionFields.KAFKA_TLS_CERT_FILE,
  KAFKA_TLS_KEY_FILE: connectionFields.KAFKA_TLS_KEY_FILE,
  SCHEMA_REGISTRY_URL: connectionFields.SCHEMA_REGISTRY_URL,
  SCHEMA_REGISTRY_USERNAME: connectionFields.SCHEMA_REGISTRY_USERNAME,
  SCHEMA_REGISTRY_PASSWORD: connectionFields.SCHEMA_REGISTRY_PASSWORD,
};

export type CliConnection = Config<typeof cliConnectionSchema>;

/** Global flags that override the environment. */
export interface ConnectionFlags {
  brokers?: string;
  registry?: string;
  verbose?: boolean;
}

/**
 * Environment plus flags → validated connection config. KAFKA_BROKERS defaults to the local
 * stack's 127.0.0.1:9092. Throws CONFIG_INVALID naming the variable (or the flag's variable).
 */
export function loadConnection(flags: ConnectionFlags, env: Readonly<Record<string, string | undefined>> = process.env): CliConnection {
  return loadConfig(cliConnectionSchema, {
    ...env,
    KAFKA_BROKERS: flags.brokers ?? env['KAFKA_BROKERS'] ?? '127.0.0.1:9092',
    ...(flags.registry === undefined ? {} : { SCHEMA_REGISTRY_URL: flags.registry }),
  });
}

/** Kafka clients, a codec and a logger (to stderr: stdout is for the command's output). */
export interface CliContext {
  readonly connection: CliConnection;
  readonly clients: KafkaClients;
  readonly codec: Codec;
  readonly logger: Logger;
}

export function openContext(flags: ConnectionFlags, clientId: string): CliContext {
  const connection = loadConnection(flags);
  // Failures reach the user as the command's error; the client's own retry chatter only with -v.
  const logger = createLogger({ name: 'convoy', level: flags.verbose === true ? 'info' : 'silent', pretty: false, destination: process.stderr });
  const kafkaLogger = logger.child({ component: 'kafka', clientId });
  // A tool should answer in seconds: 3 retries (about 2 s) instead of the services' 10 (about
  // 3 min), e.g. for a topic that does not exist. Producers keep their own unlimited retries.
  const clients = new KafkaClients({ ...kafkaConfigFrom(connection, { logger: kafkaLogger, clientId }), retry: { ...RETRY, retries: 3 } }, kafkaLogger);
  const codec = createCodec({
    ...(connection.SCHEMA_REGISTRY_URL === undefined ? {} : { registryUrl: connection.SCHEMA_REGISTRY_URL }),
    ...(connection.SCHEMA_REGISTRY_USERNAME !== undefined && connection.SCHEMA_REGISTRY_PASSWORD !== undefined
      ? { auth: { username: connection.SCHEMA_REGISTRY_USERNAME, password: connection.SCHEMA_REGISTRY_PASSWORD.reveal() } }
      : {}),
  });
  return { connection, clients, codec, logger };
}

/** Header buffers as UTF-8 text. */
export function headerText(headers: Readonly<Record<string, Buffer | undefined>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) if (value !== undefined) out[name] = value.toString('utf8');
  return out;
}
