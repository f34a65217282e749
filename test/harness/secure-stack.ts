/**
 * The local stack's secure listeners (scripts/stack.sh: SASL_PLAINTEXT, SSL, SASL_SSL, MTLS), as
 * `scripts/stack.sh env` prints them (CONVOY_TEST_*), with the default stack's ports and files as
 * fallback. The plaintext listener (KAFKA_BROKERS) stays the verifier's way in.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createConnection } from 'node:net';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { once } from 'node:events';
import { connectionFields, loadConfig } from '@convoy/config';
import { createKafkaClients } from '@convoy/kafka';
import { createLogger } from '@convoy/logging';
import { freePort } from './processes.ts';
import { uniqueName } from './stack.ts';
import { createTopics, deleteGroups, deleteTopics } from './topics.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface SecureStack {
  readonly saslBrokers: string;
  readonly sslBrokers: string;
  readonly saslSslBrokers: string;
  readonly mtlsBrokers: string;
  readonly username: string;
  readonly password: string;
  readonly caFile: string;
  readonly certFile: string;
  readonly keyFile: string;
}

export function secureStack(env: NodeJS.ProcessEnv = process.env): SecureStack {
  const tls = `${ROOT}.stack/tls`;
  return {
    saslBrokers: env['CONVOY_TEST_KAFKA_SASL_BROKERS'] ?? '127.0.0.1:9094',
    sslBrokers: env['CONVOY_TEST_KAFKA_SSL_BROKERS'] ?? '127.0.0.1:9095',
    saslSslBrokers: env['CONVOY_TEST_KAFKA_SASL_SSL_BROKERS'] ?? '127.0.0.1:9096',
    mtlsBrokers: env['CONVOY_TEST_KAFKA_MTLS_BROKERS'] ?? '127.0.0.1:9097',
    username: env['CONVOY_TEST_SASL_USERNAME'] ?? 'convoy-test',
    password: env['CONVOY_TEST_SASL_PASSWORD'] ?? 'convoy-local-only-3f9a1c',
    caFile: env['CONVOY_TEST_TLS_CA_FILE'] ?? `${tls}/ca.pem`,
    certFile: env['CONVOY_TEST_TLS_CERT_FILE'] ?? `${tls}/client.pem`,
    keyFile: env['CONVOY_TEST_TLS_KEY_FILE'] ?? `${tls}/client-key.pem`,
  };
}

function portOpen(hostPort: string): Promise<boolean> {
  const [host, port] = hostPort.split(':');
  return new Promise((resolve) => {
    const socket = createConnection({ host: host!, port: Number(port) });
    socket.setTimeout(2_000);
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => (socket.destroy(), resolve(false)));
  });
}

/**
 * Why the secure listeners cannot be tested, or undefined when they can. When `stack.sh env`
 * announced them (CONVOY_TEST_KAFKA_SASL_BROKERS is set) they must be there: never a reason to skip.
 * Otherwise a stack started by an older stack.sh (no secure listeners until restarted) or
 * Testcontainers is a reason, named in the skip message.
 */
export async function secureStackMissing(env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  if (env['CONVOY_TEST_KAFKA_SASL_BROKERS'] !== undefined) return undefined;
  const stack = secureStack(env);
  const restart = "'bash scripts/stack.sh down && bash scripts/stack.sh up' (a stack started by an older stack.sh has no secure listeners)";
  if (!existsSync(stack.caFile)) return `no ${stack.caFile}: ${restart}`;
  for (const brokers of [stack.saslBrokers, stack.sslBrokers, stack.saslSslBrokers, stack.mtlsBrokers]) {
    if (!(await portOpen(brokers))) return `nothing listens on ${brokers}: ${restart}`;
  }
  return undefined;
}

/**
 * A service process whose every output line is kept (ServiceProcess keeps a bounded tail), for
 * asserting what it never printed. Bounded all the same: more than `maxBytes` fails the test.
 */
export class CapturedService {
  readonly port: number;
  readonly #child: ReturnType<typeof spawn>;
  readonly #exit: Promise<number | null>;
  #output = '';
  #bytes = 0;
  readonly #maxBytes: number;

  private constructor(service: string, env: Record<string, string>, port: number, maxBytes: number) {
    this.port = port;
    this.#maxBytes = maxBytes;
    // Only what the test passes, plus PATH: nothing of the parent's KAFKA_*/SCHEMA_* leaks in.
    this.#child = spawn(process.execPath, [`services/${service}/src/main.ts`], {
      cwd: ROOT,
      env: { PATH: process.env['PATH'] ?? '', ...env, HTTP_HOST: '127.0.0.1', HTTP_PORT: String(port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (chunk: Buffer) => {
      this.#bytes += chunk.length;
      if (this.#bytes <= maxBytes) this.#output += chunk.toString('utf8');
    };
    this.#child.stdout?.on('data', keep);
    this.#child.stderr?.on('data', keep);
    this.#exit = once(this.#child, 'exit').then(([code]) => code as number | null);
  }

  static async start(service: string, env: Record<string, string>, maxBytes = 64 * 1024 * 1024): Promise<CapturedService> {
    return new CapturedService(service, env, await freePort(), maxBytes);
  }

  /** Everything printed so far (stdout and stderr, interleaved as they arrived). */
  get output(): string {
    if (this.#bytes > this.#maxBytes) throw new Error(`service printed ${this.#bytes} bytes, more than the ${this.#maxBytes} kept`);
    return this.#output;
  }

  get running(): boolean {
    return this.#child.exitCode === null && this.#child.signalCode === null;
  }

  async ready(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!this.running) throw new Error(`exited before it was ready:\n${this.#output.slice(-4000)}`);
      const ok = await fetch(`http://127.0.0.1:${this.port}/readyz`).then((r) => r.status === 200, () => false);
      if (ok) return;
      await sleep(200);
    }
    throw new Error(`not ready after ${timeoutMs} ms:\n${this.#output.slice(-4000)}`);
  }

  /** The exit code, or undefined when it still runs after `timeoutMs`. */
  async exited(timeoutMs: number): Promise<number | null | undefined> {
    const cancel = new AbortController();
    const timer = sleep(timeoutMs, undefined, { signal: cancel.signal }).catch(() => undefined);
    try {
      return await Promise.race([this.#exit, timer]);
    } finally {
      cancel.abort();
    }
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.#child.kill('SIGTERM');
    if ((await this.exited(30_000)) === undefined) {
      this.#child.kill('SIGKILL');
      await this.#exit;
    }
  }
}

/** A password as it could leak: itself, base64 alone, as HTTP basic auth and as a SASL PLAIN message. */
export function secretForms(username: string, password: string): string[] {
  const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');
  return [password, b64(password), b64(`${username}:${password}`), b64(`\u0000${username}\u0000${password}`)];
}

/** The forms of `password` that occur in `text` (empty when none does). */
export function leakedForms(text: string, username: string, password: string): string[] {
  return secretForms(username, password).filter((form) => text.includes(form));
}

/**
 * Connects through Convoy's own port configured only from `env` (loadConfig(connectionFields) →
 * createKafkaClients), produces `values` to a fresh topic and consumes them back from the beginning
 * with a consumer group. The topic is made and removed through the plaintext listener.
 */
export async function roundTrip(env: Record<string, string>, values: readonly string[]): Promise<string[]> {
  const config = loadConfig(connectionFields, env);
  const clients = createKafkaClients(config, { logger: createLogger({ name: 'security-test', level: 'silent' }), clientId: uniqueName('it-sec') });
  const topic = uniqueName('it-sec');
  const group = uniqueName('it-sec-group');
  await createTopics([{ topic, partitions: 1 }]);
  const producer = clients.kafkajs.producer({ allowAutoTopicCreation: false });
  const consumer = clients.kafkajs.consumer({ groupId: group });
  try {
    // As a service starts: the admin first, which turns refused credentials into KAFKA_AUTHENTICATION_FAILED.
    await clients.clusterInfo();
    await producer.connect();
    await producer.send({ topic, acks: -1, messages: values.map((value) => ({ value })) });
    await producer.disconnect();
    const got: string[] = [];
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void got.push(message.value?.toString() ?? '') });
    const deadline = Date.now() + 60_000;
    while (got.length < values.length && Date.now() < deadline) await sleep(100);
    return got;
  } finally {
    await producer.disconnect().catch(() => undefined);
    await consumer.disconnect().catch(() => undefined);
    await clients.disconnect();
    await deleteTopics([topic]);
    await deleteGroups([group]);
  }
}
