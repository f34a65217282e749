import { connectionFields, duration, int, list, loadConfig, oneOf, str, type Config } from '@convoy/config';

/**
 * The watermark forwarder's environment. Parsed once at start; a bad value stops the service with
 * a message that names the variable and what it accepts.
 */
export const forwarderSchema = {
  ...connectionFields,
  KAFKA_CLIENT_ID: str().default('convoy-watermark-forwarder'),
  WMF_INPUT_TOPICS: list(str(), { minItems: 1 }).describe('a comma list of topic names (every partition of each is one input)'),
  WMF_OUTPUT_TOPIC: str().describe('a topic name (forwarded events + combined watermarks)'),
  WMF_OUTPUT_PARTITIONS: int({ min: 1 }).optional().describe('an integer >= 1 (partitions of a created output topic; default: the most any input topic has)'),
  WMF_STATE_TOPIC: str().optional().describe('a topic name (compacted: last watermark written; default <WMF_OUTPUT_TOPIC>.wmf-state)'),
  WMF_DLQ_TOPIC: str().default('convoy.dlq'),
  WMF_GROUP_ID: str().default('convoy-watermark-forwarder'),
  WMF_CLOCK: oneOf(['time', 'logical']).default('time'),
  WMF_TICK_INTERVAL_MS: duration({ min: 1 }).default(200).describe('a duration such as 200ms (per-partition ticks: apply watermarks, check caught-up)'),
  WMF_END_OFFSETS_INTERVAL_MS: duration({ min: 1 }).default(1_000).describe('a duration such as 1s (how often the inputs\' end offsets are read)'),
  WMF_CAUGHT_UP_AFTER_MS: duration({ min: 0 })
    .default(5_000)
    .describe('a duration such as 5s (an input at its end offset this long, with no record, leaves the minimum; keep it above the generator interval)'),
  WMF_EVENT_TIME_MAX_FUTURE_MS: duration({ min: 0 })
    .default(60 * 60 * 1000)
    .describe('a duration such as 1h (time clock: a watermark further ahead of the processing clock is dead-lettered; 0 turns the bound off)'),
  WMF_IDLE_TIMEOUT_MS: duration({ min: 1 }).default(10_000).describe('a duration such as 10s (quiet inputs are reported, never excluded)'),
};

export type ForwarderConfig = Config<typeof forwarderSchema>;

export function loadForwarderConfig(env: Readonly<Record<string, string | undefined>> = process.env): ForwarderConfig {
  return loadConfig(forwarderSchema, env);
}

export function stateTopicOf(config: Pick<ForwarderConfig, 'WMF_STATE_TOPIC' | 'WMF_OUTPUT_TOPIC'>): string {
  return config.WMF_STATE_TOPIC ?? `${config.WMF_OUTPUT_TOPIC}.wmf-state`;
}
