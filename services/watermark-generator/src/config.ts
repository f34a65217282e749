import { connectionFields, duration, int, list, loadConfig, oneOf, str, type Config } from '@convoy/config';

/**
 * The watermark generator's environment. Parsed once at start; a bad value stops the service with
 * a message that names the variable and what it accepts.
 */
export const generatorSchema = {
  ...connectionFields,
  KAFKA_CLIENT_ID: str().default('convoy-watermark-generator'),
  WM_TOPICS: list(str(), { minItems: 1 }).describe('a comma list of topic names (a watermark goes into every partition of each)'),
  WM_MODE: oneOf(['time', 'logical']).default('time'),
  WM_INTERVAL_MS: duration({ min: 1 }).default(1_000).describe('a duration such as 200ms or 1s (period between watermark rounds)'),
  WM_MAX_OUT_OF_ORDER_MS: duration({ min: 0 }).default(5_000).describe('a duration such as 500ms or 5s (time mode: watermark = now − this)'),
  WM_LOGICAL_LAG_MS: duration({ min: 0 })
    .optional()
    .describe('a duration such as 2s (logical mode: numbers handed out at least this long ago are below the watermark; default 2 × WM_INTERVAL_MS)'),
  WM_COUNTER_TOPIC: str().default('convoy.wm-counter').describe('a topic name (compacted, 1 partition: the counter\'s durable reservations)'),
  WM_COUNTER_PORT: int({ min: 0, max: 65_535 }).default(9465).describe('a TCP port (logical mode: the counter\'s HTTP API; 0 picks a free one)'),
  WM_COUNTER_BLOCK_SIZE: int({ min: 1 }).default(1_000).describe('an integer >= 1 (numbers reserved per durable write)'),
  WM_COUNTER_MAX_COUNT: int({ min: 1 }).default(10_000).describe('an integer >= 1 (largest count one POST /next may ask for)'),
  WM_PARTITION_REFRESH_MS: duration({ min: 1 }).default(30_000).describe('a duration such as 30s (how often partition counts are re-read)'),
};

export type GeneratorConfig = Config<typeof generatorSchema>;

export function loadGeneratorConfig(env: Readonly<Record<string, string | undefined>> = process.env): GeneratorConfig {
  return loadConfig(generatorSchema, env);
}

export function logicalLagOf(config: Pick<GeneratorConfig, 'WM_LOGICAL_LAG_MS' | 'WM_INTERVAL_MS'>): number {
  return config.WM_LOGICAL_LAG_MS ?? 2 * config.WM_INTERVAL_MS;
}
