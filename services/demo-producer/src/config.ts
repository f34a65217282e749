import { connectionFields, duration, int, loadConfig, num, oneOf, str, type Config } from '@convoy/config';

const TOPIC = /^[a-zA-Z0-9._-]{1,249}$/;
const ratio = () => num({ min: 0, max: 1 });

/**
 * The demo producer's environment. Parsed once at start; a bad value stops the service with a
 * message that names the variable and what it accepts.
 */
export const demoProducerSchema = {
  ...connectionFields,
  KAFKA_CLIENT_ID: str().default('convoy-demo-producer'),
  DEMO_TOPIC: str({ pattern: TOPIC, expects: 'a Kafka topic name (letters, digits, . _ -)' }).default('convoy.input'),
  DEMO_RATE: num({ min: 0 }).default(200).describe('events per second, a number >= 0 (0 = as fast as the broker takes them)'),
  DEMO_COUNT: int({ min: 1 }).optional().describe('an integer >= 1 (stop after this many events; unset = run until stopped)'),
  DEMO_CUSTOMERS: int({ min: 1 }).default(1000),
  DEMO_OUT_OF_ORDER_RATIO: ratio().default(0.1),
  DEMO_MAX_DISORDER_MS: duration({ min: 1 }).default(2_000),
  DEMO_LATE_RATIO: ratio().default(0.01),
  DEMO_LATE_BY_MS: duration({ min: 0 }).default(120_000),
  DEMO_MALFORMED_RATIO: ratio()
    .default(0.002)
    .check((malformed, config) => {
      const ooo = config['DEMO_OUT_OF_ORDER_RATIO'];
      const late = config['DEMO_LATE_RATIO'];
      if (typeof ooo !== 'number' || typeof late !== 'number') return undefined;
      return ooo + late + malformed > 1
        ? `DEMO_OUT_OF_ORDER_RATIO + DEMO_LATE_RATIO + DEMO_MALFORMED_RATIO is ${ooo + late + malformed}: expected at most 1`
        : undefined;
    }),
  DEMO_SEED: int({ min: 0, max: 2 ** 32 - 1 }).optional().describe('an integer in [0, 2^32) (unset: random, logged at start)'),
  DEMO_FORMAT: oneOf(['json', 'avro'])
    .default('json')
    .check((format, config) => (format === 'avro' && config['SCHEMA_REGISTRY_URL'] === undefined ? 'DEMO_FORMAT=avro needs SCHEMA_REGISTRY_URL to be set' : undefined)),
  DEMO_MAX_BATCH: int({ min: 1, max: 100_000 }).default(1_000).describe('an integer in [1, 100000] (records per produce request)'),
  HTTP_PORT: int({ min: 0, max: 65535 }).default(9520),
};

export type DemoProducerConfig = Config<typeof demoProducerSchema>;

export function loadDemoProducerConfig(env: Readonly<Record<string, string | undefined>> = process.env): DemoProducerConfig {
  return loadConfig(demoProducerSchema, env);
}
