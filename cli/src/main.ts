#!/usr/bin/env node
// The `convoy` command. Every subcommand returns its exit code; errors print one line (a
// configuration problem exactly as written) and exit 2.
import { Command, Option } from 'commander';
import { errorCode, errorMessage } from '@convoy/errors';
import { formatFatal } from '@convoy/lifecycle';
import { GENERATOR_DEFAULTS } from '@convoy/demo-producer/generator';
import { produceCommand, type ProduceFlags } from './produce.ts';
import { statusCommand } from './status.ts';
import { tailCommand, type TailFlags } from './tail.ts';
import { topicsEnsureCommand } from './topics.ts';
import { parseDuration, parsePositiveInt, parseRate, parseRatio, parseSeed } from './values.ts';
import { verifyCommand, type VerifyFlags } from './verify.ts';

// kafkajs (2.2.4) computes some timer delays that come out negative on Node 24, which then prints
// a TimeoutNegativeWarning per client; harmless (Node uses 1 ms), and noise in a CLI's output.
process.removeAllListeners('warning');
process.on('warning', (warning) => {
  if (warning.name !== 'TimeoutNegativeWarning') process.stderr.write(`${warning.name}: ${warning.message}\n`);
});

const program = new Command('convoy')
  .description('Produce load into, read, verify and watch a Convoy fleet')
  .option('--brokers <list>', 'Kafka bootstrap servers, host:port,... (env KAFKA_BROKERS; default 127.0.0.1:9092)')
  .option('--registry <url>', 'schema registry URL (env SCHEMA_REGISTRY_URL)')
  .option('-v, --verbose', 'log Kafka client activity to stderr')
  .showHelpAfterError()
  .addHelpText('after', '\nSASL/TLS: KAFKA_SSL, KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD, KAFKA_TLS_*_FILE, as for every service.');

let exitCode = 0;

program
  .command('produce')
  .description('generate order events (out-of-order, late and malformed ones included) at a rate')
  .option('--topic <name>', 'topic to produce to', 'convoy.input')
  .option('--rate <n>', 'events per second (0 = as fast as possible)', parseRate, 200)
  .option('--count <n>', 'stop after this many events (default: until Ctrl-C)', parsePositiveInt)
  .option('--customers <n>', 'distinct customer IDs (record keys)', parsePositiveInt, GENERATOR_DEFAULTS.customers)
  .addOption(new Option('--format <format>', 'value format').choices(['json', 'avro']).default('json'))
  .option('--out-of-order-ratio <r>', 'share of events up to --max-disorder early', parseRatio, GENERATOR_DEFAULTS.outOfOrderRatio)
  .option('--max-disorder <duration>', 'largest event-time step back of an out-of-order event', parseDuration, GENERATOR_DEFAULTS.maxDisorderMs)
  .option('--late-ratio <r>', 'share of late events', parseRatio, GENERATOR_DEFAULTS.lateRatio)
  .option('--late-by <duration>', 'how far back a late event lies', parseDuration, GENERATOR_DEFAULTS.lateByMs)
  .option('--malformed-ratio <r>', 'share of malformed records (random bytes, empty key, no customer)', parseRatio, GENERATOR_DEFAULTS.malformedRatio)
  .option('--seed <n>', 'PRNG seed (default: random, printed at the end)', parseSeed)
  .option('--batch <n>', 'records per produce request', parsePositiveInt, 1000)
  .option('--no-progress', 'no progress bar')
  .action(async (opts: Omit<ProduceFlags, 'brokers' | 'registry' | 'verbose'>) => {
    exitCode = await produceCommand({ ...program.opts(), ...opts });
  });

program
  .command('tail')
  .description('print the records of a topic: envelope headers decoded, values as JSON when they parse')
  .argument('<topic>')
  .addOption(new Option('--from <where>', 'start position').choices(['beginning', 'end']).default('beginning'))
  .option('--max <n>', 'stop after this many records', parsePositiveInt)
  .addOption(new Option('--isolation <level>', 'transaction isolation').choices(['read_committed', 'read_uncommitted']).default('read_committed'))
  .option('-f, --follow', 'keep waiting for new records', false)
  .option('--idle <duration>', 'without --follow: stop after this long without a new record', parseDuration, 2_000)
  .option('--json', 'one JSON object per record', false)
  .action(async (topic: string, opts: Omit<TailFlags, 'brokers' | 'registry' | 'verbose'>) => {
    exitCode = await tailCommand(topic, { ...program.opts(), ...opts });
  });

program
  .command('verify')
  .description('check that the ordered output holds every input event once, in input order, per source partition')
  .option('--input <topic>', 'input topic', 'convoy.input')
  .option('--output <topic>', 'ordered output topic', 'convoy.ordered')
  .option('--dlq <topic>', 'dead-letter topic', 'convoy.dlq')
  .option('--late <topic>', 'late topic (default <output>.late)')
  .option('--timeout <duration>', 'give up waiting for the output after this long', parseDuration, 60_000)
  .option('--settle <duration>', 'quiet time before a verdict is taken as final', parseDuration, 3_000)
  .option('--allow-filtered', 'events absent everywhere were filtered by a worker: allowed (order and duplicates still checked)', false)
  .action(async (opts: Omit<VerifyFlags, 'brokers' | 'registry' | 'verbose'>) => {
    exitCode = await verifyCommand({ ...program.opts(), ...opts });
  });

program
  .command('status')
  .description("scrape every service's /metrics and /readyz and print one row per service")
  .option('--targets <list>', 'name=url,... (default: the local fleet on :9500, :9509, :9510-9513, plus CONVOY_STATUS_TARGETS)')
  .action(async (opts: { targets?: string }) => {
    exitCode = await statusCommand(opts);
  });

program
  .command('topics')
  .description('topic administration')
  .command('ensure')
  .description('create topics that are missing: name:partitions[:compact] ...')
  .argument('<specs...>')
  .action(async (specs: string[]) => {
    exitCode = await topicsEnsureCommand(specs, program.opts());
  });

try {
  await program.parseAsync(process.argv);
  process.exit(exitCode);
} catch (error) {
  // One line for the user (a configuration problem exactly as written); the stack only with -v.
  const code = errorCode(error);
  const text = code === 'CONFIG_INVALID' ? errorMessage(error) : `convoy: ${code === 'UNKNOWN' || code === 'Error' ? '' : `${code}: `}${errorMessage(error)}`;
  process.stderr.write(`${program.opts()['verbose'] === true ? formatFatal(error) : text}\n`);
  process.exit(2);
}
