import { setTimeout as sleep } from 'node:timers/promises';
import type { Batch, Consumer, EachBatchPayload, Producer } from 'kafkajs';
import { ConvoyError } from '@convoy/errors';
import type { Logger } from '@convoy/logging';
import type { Health, Metrics } from '@convoy/telemetry';
import type { KafkaClients } from './client.ts';
import { classifyKafkaError, KAFKA_HANDLER_FAILED } from './errors.ts';
import { compressionType, idempotentProducerConfig, type Compression } from './producer.ts';
import { fromKafkaMessage, topicMessages } from './records.ts';
import { processorMetrics, type ProcessorMetrics } from './processor-metrics.ts';
import { withKafkaRetry } from './retry.ts';
import type { ConvoyRecord, OutgoingRecord, TopicPartition } from './types.ts';

/**
 * What a handler writes into during one unit of work (a batch or a tick) of one partition.
 * Everything sent, and the commit offset, go into ONE Kafka transaction at the end of the unit:
 * either all of it becomes visible to read_committed readers together with the offset commit, or
 * none of it does.
 */
export interface ProcessorOutput {
  /** Adds a record to this unit's transaction. */
  send(record: OutgoingRecord): void;
  /**
   * The offset of the next input record this partition must re-read after a restart: every input
   * below it is fully reflected in committed output or state. In `commitMode: 'handler'` this is
   * the only way the committed offset moves; it never moves backwards (a lower value is ignored).
   */
  commitUpTo(offset: number): void;
  /** Back-pressure: stop fetching this partition after the current unit. */
  pause(): void;
  /** Resume fetching this partition. */
  resume(): void;
}

/**
 * A per-partition stream processor. For one partition, calls never overlap and arrive in order:
 * `onAssigned`, then any sequence of `onRecords` / `onTick`, then `onRevoked`. Records arrive in
 * offset order, each at most once per assignment. After `onRevoked` (a rebalance, which kafkajs
 * always runs eagerly, or a stop) the partition may come back with `onAssigned`, and then the
 * records from the last committed offset on are delivered again: rebuild state in `onAssigned`.
 * Time (`now`, ms) is read by the processor and passed in.
 *
 * A handler that throws stops that partition (nothing of that unit is committed) and the error
 * goes to `onFatal`. Handlers are never re-invoked with the same records: retry your own I/O
 * inside the handler, and dead-letter poison records (see `deadLetterRecord`).
 */
export interface PartitionHandler {
  onAssigned?(partition: TopicPartition, now: number): void | Promise<void>;
  onRecords(partition: TopicPartition, records: readonly ConvoyRecord[], out: ProcessorOutput, now: number): void | Promise<void>;
  onTick?(partition: TopicPartition, out: ProcessorOutput, now: number): void | Promise<void>;
  onRevoked?(partition: TopicPartition): void | Promise<void>;
}

/**
 * `batch-end`: after each batch the committed offset moves to just past the batch (for handlers
 * that hold nothing back). `handler`: only `out.commitUpTo` moves it (for handlers that buffer
 * input, e.g. a merger or reorder buffer, whose commit must stay below what they still hold).
 */
export type CommitMode = 'batch-end' | 'handler';

export interface PartitionProcessorOptions {
  clients: KafkaClients;
  groupId: string;
  topics: readonly string[];
  /** Transactional ids are `${prefix}-${topic}-${partition}`; keep it stable across restarts. */
  transactionalIdPrefix: string;
  handler: PartitionHandler;
  /**
   * Called once when a partition stops for good: a non-retriable handler or Kafka error, or
   * retries exhausted (`partition` set), or the consumer crashed without restart (`partition`
   * undefined). Nothing of the failed unit was committed, so crashing the process is safe.
   */
  onFatal: (error: ConvoyError, partition: TopicPartition | undefined) => void;
  commitMode?: CommitMode;
  /** `onTick` period per partition. Default 1000 ms; 0 disables ticks. */
  tickIntervalMs?: number;
  /** A fetched batch is processed in units of at most this many records (one transaction each). Default 5000. */
  maxBatchRecords?: number;
  /** Where a group without committed offsets starts. Default true (earliest). */
  fromBeginning?: boolean;
  compression?: Compression;
  /** Longest a fetch waits for data. Default 100 ms (latency over request count). */
  maxWaitMs?: number;
  /** Must be ≥ the partitions this member may own, so partitions never wait on each other. Default 64. */
  partitionsConsumedConcurrently?: number;
  /** Attempts for a transaction that fails with a retriable error, with doubling backoff from 100 ms (cap 5 s). Default 8. */
  maxTransactionAttempts?: number;
  /**
   * A retriable failure is retried at least `maxTransactionAttempts` times AND for at least this
   * long since the unit's first failure. Default 180 s: a broker restart makes kafkajs fail fast
   * (connection refused, coordinator not found), and eight quick attempts would give up long before
   * the broker is back.
   */
  transactionRetryWindowMs?: number;
  transactionTimeoutMs?: number;
  /** Upper bound of one produce send inside a transaction; keep below the broker's message.max.bytes. Default 512 KiB. */
  maxRequestBytes?: number;
  /** Consumer lag gauge refresh period. Default 10 s; 0 disables. */
  lagIntervalMs?: number;
  logger?: Logger;
  metrics?: Metrics;
  /** Readiness checks `kafka` (consumer connected) and `assignment` (joined the group). */
  health?: Health;
  /** Clock for `now`. Default `Date.now`. */
  clock?: () => number;
}

/** A running processor. */
export interface PartitionProcessor {
  /** The partitions owned by the current group generation. */
  assigned(): TopicPartition[];
  /** The offset this processor last committed for a partition, if any. */
  committedOffset(partition: TopicPartition): number | undefined;
  /**
   * Stops fetching, lets the in-flight unit of every partition finish its transaction, calls
   * `onRevoked`, disconnects the producers and the consumer. Idempotent.
   */
  stop(): Promise<void>;
}

interface PartitionState {
  readonly tp: TopicPartition;
  readonly key: string;
  queue: Promise<void>;
  producer: Producer | undefined;
  /** Last offset committed by this state's transactions. */
  committed: number | undefined;
  /** Next input offset expected: guards against kafkajs handing a batch twice. */
  nextOffset: number | undefined;
  revoked: boolean;
  failed: boolean;
  tickPending: boolean;
}

const FENCED = new Set(['KAFKA_PRODUCER_FENCED', 'KAFKA_INVALID_PRODUCER_EPOCH', 'KAFKA_TRANSACTIONAL_ID_AUTHORIZATION_FAILED']);
/** Fencing that a re-join can cure: another producer (or the coordinator) bumped our epoch. */
const REJOINABLE = new Set(['KAFKA_PRODUCER_FENCED', 'KAFKA_INVALID_PRODUCER_EPOCH']);
/** At most this many fenced re-joins per processor within `REJOIN_WINDOW_MS`; more is fatal. */
const MAX_REJOINS = 5;
const REJOIN_WINDOW_MS = 5 * 60_000;
/** A requested re-join that no batch carried out within this time is fatal (the process restart does it). */
const REJOIN_DEADLINE_MS = 60_000;

function keyOf(topic: string, partition: number): string {
  return `${topic}/${partition}`;
}

/**
 * Consume-transform-produce with exactly-once output: each unit of work of one input partition
 * (a batch, or a tick) ends in one transaction holding the handler's output records and the
 * partition's commit offset. After a crash the group resumes from the last committed offset, and
 * read_committed readers never see output of an uncommitted unit.
 *
 * Fencing: kafkajs has no KIP-447 (consumer-group-aware) fencing in sendOffsets, so each input
 * partition gets its own transactional producer, id `${prefix}-${topic}-${partition}`. When the
 * partition moves to another member, that member's producer initialises the same id, which fences
 * ours: a zombie's late commit fails with PRODUCER_FENCED instead of duplicating output.
 */
export async function runPartitionProcessor(options: PartitionProcessorOptions): Promise<PartitionProcessor> {
  const { clients, groupId, handler, onFatal } = options;
  const logger = (options.logger ?? clients.logger).child({ component: 'partition-processor', groupId });
  const clock = options.clock ?? Date.now;
  const commitMode = options.commitMode ?? 'batch-end';
  const tickIntervalMs = options.tickIntervalMs ?? 1000;
  const maxBatchRecords = Math.max(1, options.maxBatchRecords ?? 5000);
  const maxAttempts = Math.max(1, options.maxTransactionAttempts ?? 8);
  const retryWindowMs = Math.max(0, options.transactionRetryWindowMs ?? 180_000);
  const maxRequestBytes = options.maxRequestBytes ?? 512 * 1024;
  const compression = compressionType(options.compression ?? 'none');
  const metrics: ProcessorMetrics | undefined = options.metrics === undefined ? undefined : processorMetrics(options.metrics);
  const health = options.health;
  health?.setReady('kafka', false, 'consumer not connected yet');
  health?.setReady('assignment', false, 'not in the consumer group yet');

  const states = new Map<string, PartitionState>();
  let stopping = false;
  let stopped: Promise<void> | undefined;
  let generation = 0;
  /** Set when a partition we still own was fenced: the next eachBatch makes kafkajs re-join the group. */
  let rejoin: { readonly error: ConvoyError; readonly timer: NodeJS.Timeout } | undefined;
  const rejoins: number[] = [];

  const consumer: Consumer = clients.kafkajs.consumer({
    groupId,
    readUncommitted: false,
    allowAutoTopicCreation: false,
    maxWaitTimeInMs: options.maxWaitMs ?? 100,
    sessionTimeout: clients.sessionTimeoutMs,
    rebalanceTimeout: 60_000,
    heartbeatInterval: Math.max(500, Math.floor(clients.sessionTimeoutMs / 5)),
    retry: {
      restartOnFailure: async (error: Error) => !stopping && classifyKafkaError(error).retriable,
    },
  });

  const enqueue = (state: PartitionState, job: () => Promise<void>): Promise<void> => {
    const run = state.queue.then(job).catch((error: unknown) => fail(state, error));
    state.queue = run;
    return run;
  };

  const fail = (state: PartitionState, error: unknown): void => {
    if (state.failed || state.revoked) return;
    state.failed = true;
    const convoyError = error instanceof ConvoyError ? error : classifyKafkaError(error);
    if (REJOINABLE.has(convoyError.code) && !stopping && requestRejoin(state, convoyError)) return;
    logger.error({ err: convoyError, partition: state.key }, 'partition processing stopped');
    try {
      consumer.pause([{ topic: state.tp.topic, partitions: [state.tp.partition] }]);
    } catch {
      // not running any more: nothing to pause
    }
    onFatal(convoyError, state.tp);
  };

  /**
   * Our producer was fenced while the group still assigns us the partition: after a broker restart
   * the coordinator may have bumped the epoch (aborting our open transaction), or a rebalance we have
   * not seen yet gave the partition to another member. Nothing of the unit was committed. Instead of
   * stopping the process, re-join the group: every partition is revoked and assigned afresh (a new
   * producer fences any other writer, `onAssigned` rebuilds state, fetching restarts from the
   * committed offset), exactly as after a rebalance. Bounded; beyond the bound it is fatal.
   */
  const requestRejoin = (state: PartitionState, error: ConvoyError): boolean => {
    const now = Date.now();
    while (rejoins.length > 0 && now - rejoins[0]! > REJOIN_WINDOW_MS) rejoins.shift();
    if (rejoins.length >= MAX_REJOINS) return false;
    if (rejoin === undefined) {
      rejoins.push(now);
      metrics?.fencedRejoins.inc();
      const timer = setTimeout(() => {
        if (rejoin === undefined || stopping) return;
        rejoin = undefined;
        logger.error({ err: error, partition: state.key }, 'fenced re-join never happened');
        onFatal(error, state.tp);
      }, REJOIN_DEADLINE_MS);
      timer.unref();
      rejoin = { error, timer };
    }
    logger.warn({ err: error, partition: state.key }, 'producer fenced on a partition still assigned to us: re-joining the group');
    return true;
  };

  const handlerError = (error: unknown, stage: string, state: PartitionState): ConvoyError =>
    error instanceof ConvoyError
      ? error
      : new ConvoyError(KAFKA_HANDLER_FAILED, `${stage} failed for ${state.key}: ${(error as Error)?.message ?? String(error)}`, {
          cause: error,
          context: { partition: state.key, stage },
        });

  const producerFor = async (state: PartitionState): Promise<Producer> => {
    if (state.producer !== undefined) return state.producer;
    const producer = clients.kafkajs.producer({
      ...idempotentProducerConfig(),
      transactionalId: `${options.transactionalIdPrefix}-${state.tp.topic}-${state.tp.partition}`,
      transactionTimeout: options.transactionTimeoutMs ?? 60_000,
    });
    try {
      await producer.connect();
    } catch (error) {
      await producer.disconnect().catch(() => undefined);
      throw error;
    }
    state.producer = producer;
    return producer;
  };

  const dropProducer = async (state: PartitionState): Promise<void> => {
    const producer = state.producer;
    state.producer = undefined;
    await producer?.disconnect().catch(() => undefined);
  };

  const makeOutput = (state: PartitionState) => {
    const records: OutgoingRecord[] = [];
    let requested: number | undefined;
    const output: ProcessorOutput = {
      send: (record) => void records.push(record),
      commitUpTo: (offset) => {
        if (!Number.isSafeInteger(offset) || offset < 0) throw new RangeError(`commitUpTo(${offset}): not an offset`);
        requested = requested === undefined ? offset : Math.max(requested, offset);
      },
      pause: () => consumer.pause([{ topic: state.tp.topic, partitions: [state.tp.partition] }]),
      resume: () => consumer.resume([{ topic: state.tp.topic, partitions: [state.tp.partition] }]),
    };
    return { output, records, requested: () => requested };
  };

  /** Commits `records` + offset in one transaction, retrying retriable failures with the same content. */
  const commitUnit = async (state: PartitionState, records: OutgoingRecord[], offset: number | undefined): Promise<void> => {
    const moves = offset !== undefined && (state.committed === undefined || offset > state.committed);
    if (records.length === 0 && !moves) return;
    let firstFailure: number | undefined;
    for (let attempt = 1; ; attempt++) {
      if (state.revoked) return; // the next owner re-reads from the committed offset
      let transaction: Awaited<ReturnType<Producer['transaction']>> | undefined;
      try {
        const producer = await producerFor(state);
        transaction = await producer.transaction();
        for (const chunk of chunksByBytes(records, maxRequestBytes)) {
          await transaction.sendBatch({ topicMessages: topicMessages(chunk), compression });
        }
        if (moves) {
          await transaction.sendOffsets({
            consumerGroupId: groupId,
            topics: [{ topic: state.tp.topic, partitions: [{ partition: state.tp.partition, offset: String(offset) }] }],
          });
        }
        await transaction.commit();
        if (moves) state.committed = offset;
        metrics?.transactions.inc({ outcome: 'committed' });
        for (const record of records) metrics?.recordsOut.inc({ topic: record.topic });
        return;
      } catch (error) {
        const classified = classifyKafkaError(error);
        let aborted = false;
        if (transaction?.isActive() === true) aborted = await transaction.abort().then(() => true, () => false);
        metrics?.transactions.inc({ outcome: 'aborted' });
        if (!aborted) await dropProducer(state); // unknown producer state: a fresh one re-inits the id, aborting leftovers
        if (state.revoked) {
          logger.info({ partition: state.key, code: classified.code }, 'transaction of a revoked partition dropped');
          return;
        }
        firstFailure ??= Date.now();
        const exhausted = attempt >= maxAttempts && Date.now() - firstFailure >= retryWindowMs;
        if (FENCED.has(classified.code) || !classified.retriable || exhausted) throw classified;
        const backoff = Math.min(5_000, 100 * 2 ** (attempt - 1));
        logger.warn({ partition: state.key, code: classified.code, attempt, backoffMs: backoff }, 'transaction failed, retrying');
        await sleep(backoff);
      }
    }
  };

  const processBatch = async (state: PartitionState, batch: Batch, heartbeat: () => Promise<void>): Promise<void> => {
    const started = performance.now();
    const lastOffset = Number(batch.lastOffset());
    let messages = batch.messages;
    if (state.nextOffset !== undefined) messages = messages.filter((m) => Number(m.offset) >= state.nextOffset!);
    for (let start = 0; start < messages.length; start += maxBatchRecords) {
      if (state.revoked || state.failed) return;
      const chunk = messages.slice(start, start + maxBatchRecords);
      const records = chunk.map((m) => fromKafkaMessage(batch.topic, batch.partition, m));
      const isLast = start + maxBatchRecords >= messages.length;
      metrics?.recordsIn.inc({ topic: batch.topic }, records.length);
      const { output, records: out, requested } = makeOutput(state);
      try {
        await handler.onRecords(state.tp, records, output, clock());
      } catch (error) {
        throw handlerError(error, 'onRecords', state);
      }
      // batch-end: past the chunk; the last chunk also covers trailing control records.
      const offset = commitMode === 'handler' ? requested() : isLast ? lastOffset + 1 : records[records.length - 1]!.offset + 1;
      await commitUnit(state, out, offset);
      state.nextOffset = records[records.length - 1]!.offset + 1;
      if (!isLast) await heartbeat().catch(() => undefined);
    }
    state.nextOffset = Math.max(state.nextOffset ?? 0, lastOffset + 1);
    metrics?.batchSeconds.observe((performance.now() - started) / 1000);
  };

  const tick = async (state: PartitionState): Promise<void> => {
    state.tickPending = false;
    if (state.revoked || state.failed || stopping || handler.onTick === undefined) return;
    const { output, records, requested } = makeOutput(state);
    try {
      await handler.onTick(state.tp, output, clock());
    } catch (error) {
      throw handlerError(error, 'onTick', state);
    }
    await commitUnit(state, records, commitMode === 'handler' ? requested() : undefined);
  };

  const revoke = (state: PartitionState): Promise<void> => {
    state.revoked = true;
    // Runs after the unit in flight: onRevoked never overlaps onRecords/onTick.
    const run = state.queue.then(async () => {
      try {
        await handler.onRevoked?.(state.tp);
      } catch (error) {
        logger.error({ err: error, partition: state.key }, 'onRevoked failed');
      }
      await dropProducer(state);
    });
    state.queue = run;
    return run;
  };

  consumer.on(consumer.events.GROUP_JOIN, (event) => {
    generation++;
    metrics?.rebalances.inc();
    const assignment = event.payload.memberAssignment;
    const next = new Map<string, PartitionState>();
    // kafkajs rebalances eagerly and restarts every assigned partition from its committed offset,
    // so every join revokes everything and assigns afresh, even a partition we keep.
    const previous = new Map(states);
    for (const state of previous.values()) void revoke(state);
    for (const [topic, partitions] of Object.entries(assignment)) {
      for (const partition of partitions) {
        const key = keyOf(topic, partition);
        const state: PartitionState = {
          tp: { topic, partition },
          key,
          queue: previous.get(key)?.queue ?? Promise.resolve(),
          producer: undefined,
          committed: undefined,
          nextOffset: undefined,
          revoked: false,
          failed: false,
          tickPending: false,
        };
        next.set(key, state);
        void enqueue(state, async () => {
          // Initialising the transactional producer first fences any previous owner of this
          // partition (the coordinator aborts its open transaction), so the state the handler
          // recovers below cannot be changed behind its back by a zombie's late commit.
          await withKafkaRetry(`initialising the producer of ${state.key}`, () => producerFor(state), { windowMs: retryWindowMs, logger });
          try {
            await handler.onAssigned?.(state.tp, clock());
          } catch (error) {
            throw handlerError(error, 'onAssigned', state);
          }
        });
      }
    }
    states.clear();
    for (const [key, state] of next) states.set(key, state);
    const count = next.size;
    metrics?.assigned.set(count);
    logger.info({ generation, partitions: [...next.keys()] }, 'partitions assigned');
    health?.setReady('assignment', true, `${count} partition(s)`);
  });
  // Readiness 'kafka': the consumer is connected and a fetch or heartbeat was answered within one
  // session timeout (beyond it the group has dropped us anyway).
  const contactTimeoutMs = clients.sessionTimeoutMs;
  let kafkaReady = false;
  let consumerUp = false;
  let lastContact = 0;
  const setKafkaReady = (ready: boolean, detail?: string): void => {
    if (ready && kafkaReady) return;
    kafkaReady = ready;
    health?.setReady('kafka', ready, detail);
  };
  const contact = (): void => {
    lastContact = Date.now();
    if (consumerUp) setKafkaReady(true);
  };
  consumer.on(consumer.events.CONNECT, () => {
    consumerUp = true;
    contact();
  });
  consumer.on(consumer.events.FETCH, contact);
  consumer.on(consumer.events.HEARTBEAT, contact);
  const contactTimer = setInterval(() => {
    const silentMs = Date.now() - lastContact;
    if (kafkaReady && silentMs > contactTimeoutMs) setKafkaReady(false, `no fetch or heartbeat answered for ${silentMs} ms (broker unreachable, or a long group join)`);
  }, 1_000);
  contactTimer.unref();

  /**
   * kafkajs restarts a crashed consumer only if the error's root cause is retriable, and it calls some
   * retriable conditions non-retriable: with the broker down, `findGroupCoordinator` fails with
   * KafkaJSGroupCoordinatorNotFound. When our classification says retriable, we restart the consumer
   * ourselves (kafkajs has already disconnected it; its subscription survives), with doubling backoff,
   * for as long as `transactionRetryWindowMs` without a successful group join; after that it is fatal.
   */
  let restartTimer: NodeJS.Timeout | undefined;
  let unjoinedSince: number | undefined;
  let restartAttempt = 0;
  const restartConsumer = (error: ConvoyError): void => {
    unjoinedSince ??= Date.now();
    if (Date.now() - unjoinedSince > retryWindowMs) {
      logger.error({ err: error, windowMs: retryWindowMs }, 'consumer crashed and could not rejoin its group within the retry window');
      onFatal(error, undefined);
      return;
    }
    const backoffMs = Math.min(10_000, 500 * 2 ** restartAttempt++);
    logger.warn({ err: error, backoffMs }, 'consumer crashed on a retriable error kafkajs will not retry: restarting it');
    clearTimeout(restartTimer);
    restartTimer = setTimeout(() => {
      restartTimer = undefined;
      if (stopping) return;
      metrics?.consumerRestarts.inc();
      // A failed restart either throws here or crashes again (kafkajs reports join failures as crashes).
      void runConsumer().catch((restartError: unknown) => {
        const classified = classifyKafkaError(restartError);
        if (stopping) return;
        if (classified.retriable) restartConsumer(classified);
        else onFatal(classified, undefined);
      });
    }, backoffMs);
  };
  consumer.on(consumer.events.GROUP_JOIN, () => {
    unjoinedSince = undefined;
    restartAttempt = 0;
    contact();
  });
  consumer.on(consumer.events.CRASH, (event) => {
    consumerUp = false;
    setKafkaReady(false, 'consumer crashed');
    const error = classifyKafkaError(event.payload.error);
    if (stopping) return;
    if (event.payload.restart) {
      logger.warn({ err: error }, 'consumer crashed, kafkajs restarts it');
    } else if (error.retriable) {
      restartConsumer(error);
    } else {
      logger.error({ err: error }, 'consumer crashed and will not restart');
      onFatal(error, undefined);
    }
  });

  const runConsumer = async (): Promise<void> => {
    await consumer.connect();
    await consumer.subscribe({ topics: [...options.topics], fromBeginning: options.fromBeginning ?? true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: options.partitionsConsumedConcurrently ?? 64,
      eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload) => {
        if (rejoin !== undefined) {
          clearTimeout(rejoin.timer);
          rejoin = undefined;
          // kafkajs re-joins the group (joinAndSync) when a batch handler throws a rebalance error.
          throw Object.assign(new Error('partition fenced: re-joining the group'), { type: 'REBALANCE_IN_PROGRESS' });
        }
        const state = states.get(keyOf(batch.topic, batch.partition));
        if (state === undefined || state.revoked || state.failed || !isRunning() || isStale()) return;
        await enqueue(state, () => processBatch(state, batch, heartbeat));
        // The fetch position moves past the batch even when the commit stays behind (commitMode
        // 'handler'): the handler holds those records; after a restart they are fetched again.
        if (!state.failed && !state.revoked) resolveOffset(batch.lastOffset());
      },
    });
  };

  try {
    await runConsumer();
  } catch (error) {
    clearInterval(contactTimer);
    await consumer.disconnect().catch(() => undefined);
    throw classifyKafkaError(error);
  }

  const tickTimer =
    tickIntervalMs > 0 && handler.onTick !== undefined
      ? setInterval(() => {
          for (const state of states.values()) {
            if (state.tickPending || state.revoked || state.failed) continue;
            state.tickPending = true;
            void enqueue(state, () => tick(state));
          }
        }, tickIntervalMs)
      : undefined;

  const lagIntervalMs = options.lagIntervalMs ?? 10_000;
  const lagTimer =
    metrics !== undefined && lagIntervalMs > 0
      ? setInterval(() => {
          void updateLag().catch((error: unknown) => logger.debug({ err: error }, 'consumer lag update failed'));
        }, lagIntervalMs)
      : undefined;

  const updateLag = async (): Promise<void> => {
    const admin = await clients.admin();
    const topics = new Set([...states.values()].map((s) => s.tp.topic));
    for (const topic of topics) {
      const [ends, [committed]] = await Promise.all([admin.fetchTopicOffsets(topic), admin.fetchOffsets({ groupId, topics: [topic] })]);
      const committedBy = new Map((committed?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
      for (const end of ends) {
        if (!states.has(keyOf(topic, end.partition))) continue;
        const at = committedBy.get(end.partition) ?? -1;
        const lag = at < 0 ? Number(end.high) - Number(end.low) : Number(end.high) - at;
        metrics?.lag.set({ topic, partition: String(end.partition) }, Math.max(0, lag));
      }
    }
  };

  return {
    assigned: () => [...states.values()].map((s) => s.tp),
    committedOffset: (tp) => states.get(keyOf(tp.topic, tp.partition))?.committed,
    stop() {
      stopped ??= (async () => {
        stopping = true;
        if (tickTimer !== undefined) clearInterval(tickTimer);
        if (rejoin !== undefined) clearTimeout(rejoin.timer);
        if (lagTimer !== undefined) clearInterval(lagTimer);
        clearTimeout(restartTimer);
        clearInterval(contactTimer);
        health?.setReady('assignment', false, 'stopping');
        // consumer.stop() waits for the eachBatch calls in flight, which wait for their transactions.
        await consumer.stop().catch((error: unknown) => logger.warn({ err: error }, 'consumer stop failed'));
        await Promise.all([...states.values()].map((state) => revoke(state)));
        states.clear();
        metrics?.assigned.set(0);
        await consumer.disconnect().catch((error: unknown) => logger.warn({ err: error }, 'consumer disconnect failed'));
        setKafkaReady(false, 'stopped');
        logger.info('partition processor stopped');
      })();
      return stopped;
    },
  };
}

/**
 * kafkajs writes everything one `send` holds for a partition as a single record batch, and the broker
 * refuses a batch above its `message.max.bytes` (1 MiB by default) as MESSAGE_TOO_LARGE. So one
 * transaction's output goes out in several sends, each of at most `maxBytes` (a lone larger record
 * still gets a send of its own, and the broker then judges it alone).
 */
export function chunksByBytes(records: readonly OutgoingRecord[], maxBytes: number): OutgoingRecord[][] {
  const chunks: OutgoingRecord[][] = [];
  let current: OutgoingRecord[] = [];
  let bytes = 0;
  for (const record of records) {
    const size = approximateRecordBytes(record);
    if (current.length > 0 && bytes + size > maxBytes) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(record);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

function approximateRecordBytes(record: OutgoingRecord): number {
  const length = (x: Buffer | string | null | undefined) => (x == null ? 0 : typeof x === 'string' ? Buffer.byteLength(x) : x.length);
  let size = 64 + length(record.key) + length(record.value);
  for (const [name, value] of Object.entries(record.headers ?? {})) size += name.length + length(value) + 8;
  return size;
}
