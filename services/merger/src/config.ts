import { bool, bytes, connectionFields, duration, int, loadConfig, oneOf, str, type Config } from '@convoy/config';

/**
 * The merger's environment. Parsed once at start; a bad value stops the service with a message that
 * names the variable and what it accepts.
 */
export const mergerSchema = {
  ...connectionFields,
  KAFKA_CLIENT_ID: str().default('convoy-merger'),
  MERGER_INPUT_TOPIC: str().default('convoy.processed').describe('a topic name (the topic the workers write)'),
  MERGER_OUTPUT_TOPIC: str().default('convoy.ordered').describe('a topic name (data only, partition = source partition)'),
  MERGER_LATE_TOPIC: str().optional().describe('a topic name for late events under route-late (default <MERGER_OUTPUT_TOPIC>.late)'),
  MERGER_DLQ_TOPIC: str().default('convoy.dlq'),
  MERGER_GROUP_ID: str().default('convoy-merger'),
  MERGER_GAP_TIMEOUT_MS: duration({ min: 1 }).default(10_000).describe('a duration such as 500ms, 10s or 1m (last resort for a silent worker)'),
  MERGER_LATE_POLICY: oneOf(['route-late', 'emit-flagged', 'drop']).default('route-late'),
  MERGER_NEVER_DROP: bool()
    .default(false)
    .check((neverDrop, config) =>
      neverDrop && config.MERGER_LATE_POLICY === 'drop'
        ? 'MERGER_NEVER_DROP=true forbids MERGER_LATE_POLICY=drop: use route-late or emit-flagged'
        : undefined,
    ),
  MERGER_CAPACITY: int({ min: 1 }).default(100_000).describe('an integer >= 1 (held events per assigned partition)'),
  MERGER_CAPACITY_BYTES: bytes({ min: 1 }).default(64 * 1024 * 1024).describe('a size such as 64MiB or 1000000 (held bytes per assigned partition)'),
  MERGER_OVERFLOW: oneOf(['force-oldest-gap', 'back-pressure']).default('force-oldest-gap'),
  MERGER_TICK_INTERVAL_MS: duration({ min: 1 }).default(200).describe('a duration such as 200ms (period of timer ticks: gap timeouts, back-pressure retries)'),
  MERGER_RECOVERY_WINDOW: int({ min: 1 }).default(64).describe('an integer >= 1 (offsets read back per step from the end of an output partition on assignment)'),
};

export type MergerConfig = Config<typeof mergerSchema>;

export function loadMergerConfig(env: Readonly<Record<string, string | undefined>> = process.env): MergerConfig {
  return loadConfig(mergerSchema, env);
}

/** The late topic: MERGER_LATE_TOPIC, or `<output>.late`. */
export function lateTopicOf(config: Pick<MergerConfig, 'MERGER_LATE_TOPIC' | 'MERGER_OUTPUT_TOPIC'>): string {
  return config.MERGER_LATE_TOPIC ?? `${config.MERGER_OUTPUT_TOPIC}.late`;
}
