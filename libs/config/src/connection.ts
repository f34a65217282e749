import { bool, duration, hostPort, int, list, oneOf, secret, str, url } from './fields.ts';
import type { Config } from './load.ts';

export const SASL_MECHANISMS = ['plain', 'scram-sha-256', 'scram-sha-512'] as const;
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

function isSet(value: unknown): boolean {
  return value !== undefined;
}

function requiresAlso(name: string, others: readonly string[]) {
  return (_value: unknown, config: Readonly<Record<string, unknown>>): string | undefined => {
    const missing = others.filter((other) => !isSet(config[other]));
    return missing.length === 0 ? undefined : `${name} is set, so ${missing.join(' and ')} must be set too`;
  };
}

function pemFile(name: string) {
  return str()
    .describe('a path to a PEM file')
    .optional()
    .check((_path, config) => (config.KAFKA_SSL === true ? undefined : `${name} is set, so KAFKA_SSL must be true`));
}

/**
 * The connection, HTTP and logging variables every Convoy service shares. Spread it into a service
 * schema (`{ ...connectionFields, MERGER_GAP_TIMEOUT_MS: duration().default(5000) }`); a service may
 * override an entry, e.g. `KAFKA_CLIENT_ID: str().default('convoy-merger')`. The cross-field rules
 * travel with the fields, so they hold in every service.
 */
export const connectionFields = {
  KAFKA_BROKERS: list(hostPort()),
  KAFKA_CLIENT_ID: str().default('convoy'),
  KAFKA_SSL: bool().default(false),
  KAFKA_SASL_MECHANISM: oneOf(SASL_MECHANISMS)
    .optional()
    .check((mechanism, config) => {
      const missing = ['KAFKA_SASL_USERNAME', 'KAFKA_SASL_PASSWORD'].filter((name) => !isSet(config[name]));
      return missing.length === 0 ? undefined : `KAFKA_SASL_MECHANISM=${JSON.stringify(mechanism)} needs ${missing.join(' and ')} to be set`;
    }),
  KAFKA_SASL_USERNAME: str().optional().check(requiresAlso('KAFKA_SASL_USERNAME', ['KAFKA_SASL_MECHANISM'])),
  KAFKA_SASL_PASSWORD: secret().optional().check(requiresAlso('KAFKA_SASL_PASSWORD', ['KAFKA_SASL_MECHANISM'])),
  KAFKA_TLS_CA_FILE: pemFile('KAFKA_TLS_CA_FILE'),
  KAFKA_TLS_CERT_FILE: pemFile('KAFKA_TLS_CERT_FILE').check(requiresAlso('KAFKA_TLS_CERT_FILE', ['KAFKA_TLS_KEY_FILE'])),
  KAFKA_TLS_KEY_FILE: pemFile('KAFKA_TLS_KEY_FILE').check(requiresAlso('KAFKA_TLS_KEY_FILE', ['KAFKA_TLS_CERT_FILE'])),
  SCHEMA_REGISTRY_URL: url().optional(),
  SCHEMA_REGISTRY_USERNAME: str()
    .optional()
    .check(requiresAlso('SCHEMA_REGISTRY_USERNAME', ['SCHEMA_REGISTRY_URL', 'SCHEMA_REGISTRY_PASSWORD'])),
  SCHEMA_REGISTRY_PASSWORD: secret().optional().check(requiresAlso('SCHEMA_REGISTRY_PASSWORD', ['SCHEMA_REGISTRY_USERNAME'])),
  HTTP_HOST: str().default('0.0.0.0'),
  HTTP_PORT: int({ min: 0, max: 65535 }).default(9464),
  LOG_LEVEL: oneOf(LOG_LEVELS).default('info'),
  // How long a member that died without leaving (kill -9) keeps its partitions. The broker's
  // group.min.session.timeout.ms (6 s by default) is the floor.
  KAFKA_SESSION_TIMEOUT_MS: duration({ min: 1_000, max: 300_000 }).default(10_000),
  // Below Kubernetes' default 30 s grace period, so our own report is logged before SIGKILL.
  SHUTDOWN_TIMEOUT_MS: duration().default(25_000),
};

export type ConnectionConfig = Config<typeof connectionFields>;
