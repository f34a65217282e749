/**
 * The demo traffic generator: order events from many customers, with a configurable share of
 * out-of-order, late and malformed records. Pure: a seeded PRNG and the time passed in, so the
 * same seed and clock give the same records, byte for byte.
 */

/** Deterministic PRNG (mulberry32): uniform in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

export const EVENT_KINDS = ['ok', 'out_of_order', 'late', 'malformed'] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

/** How a malformed record is broken; each is dead-lettered by the splitter with its default key source (`key`). */
export const MALFORMED_KINDS = ['random-bytes', 'empty-key', 'missing-customer'] as const;
export type MalformedKind = (typeof MALFORMED_KINDS)[number];

export interface OrderItem {
  sku: string;
  quantity: number;
  /** Unit price in the order's currency. */
  price: number;
}

export interface Order {
  orderId: string;
  customerId: string;
  amount: number;
  currency: string;
  items: OrderItem[];
  /** ms since the epoch; also the record timestamp. */
  eventTime: number;
}

/**
 * One record to produce. `order` is set for well-formed events (the caller encodes it as JSON or
 * Avro); a malformed event carries its `raw` bytes instead, which no codec should touch.
 */
export interface GeneratedEvent {
  kind: EventKind;
  malformed?: MalformedKind;
  key: string | null;
  order?: Order;
  raw?: Buffer;
  timestamp: number;
}

export interface GeneratorOptions {
  customers: number;
  /** Share of events whose event time is up to `maxDisorderMs` before the current time. */
  outOfOrderRatio: number;
  maxDisorderMs: number;
  /** Share of events whose event time is `lateByMs` (plus up to 1 s) before the current time. */
  lateRatio: number;
  lateByMs: number;
  malformedRatio: number;
  seed: number;
}

export const GENERATOR_DEFAULTS: GeneratorOptions = {
  customers: 1000,
  outOfOrderRatio: 0.1,
  maxDisorderMs: 2_000,
  lateRatio: 0.01,
  lateByMs: 120_000,
  malformedRatio: 0.002,
  seed: 1,
};

const CURRENCIES = ['EUR', 'USD', 'GBP'] as const;
const SKUS = 50;

/** Why the options cannot work, or undefined. */
export function generatorOptionsProblem(o: GeneratorOptions): string | undefined {
  if (!Number.isSafeInteger(o.customers) || o.customers < 1) return `customers must be an integer >= 1, got ${o.customers}`;
  for (const [name, value] of [
    ['outOfOrderRatio', o.outOfOrderRatio],
    ['lateRatio', o.lateRatio],
    ['malformedRatio', o.malformedRatio],
  ] as const) {
    if (!(value >= 0 && value <= 1)) return `${name} must be within [0, 1], got ${value}`;
  }
  const total = o.outOfOrderRatio + o.lateRatio + o.malformedRatio;
  if (total > 1) return `outOfOrderRatio + lateRatio + malformedRatio must be at most 1, got ${total}`;
  if (!(o.maxDisorderMs >= 1)) return `maxDisorderMs must be >= 1, got ${o.maxDisorderMs}`;
  if (!(o.lateByMs >= 0)) return `lateByMs must be >= 0, got ${o.lateByMs}`;
  return undefined;
}

/**
 * Generates events one at a time. The kind of each event is drawn first (malformed, late,
 * out-of-order, else ok, by their ratios); then its customer, skewed so low customer numbers
 * order more often (a few busy customers, a long tail), as real order streams do.
 */
export class OrderGenerator {
  readonly #o: GeneratorOptions;
  readonly #random: () => number;
  #next = 0;
  readonly #counts: Record<EventKind, number> = { ok: 0, out_of_order: 0, late: 0, malformed: 0 };

  constructor(options: Partial<GeneratorOptions> = {}) {
    const o = { ...GENERATOR_DEFAULTS, ...options };
    const problem = generatorOptionsProblem(o);
    if (problem !== undefined) throw new RangeError(problem);
    this.#o = o;
    this.#random = mulberry32(o.seed);
  }

  /** Events generated so far, by kind. */
  get counts(): Readonly<Record<EventKind, number>> {
    return { ...this.#counts };
  }

  /** The next event at wall-clock time `now` (ms since the epoch). */
  next(now: number): GeneratedEvent {
    const o = this.#o;
    const r = this.#random();
    const kind: EventKind =
      r < o.malformedRatio ? 'malformed' : r < o.malformedRatio + o.lateRatio ? 'late' : r < o.malformedRatio + o.lateRatio + o.outOfOrderRatio ? 'out_of_order' : 'ok';
    this.#counts[kind]++;
    let eventTime = now;
    if (kind === 'out_of_order') eventTime = now - 1 - Math.floor(this.#random() * o.maxDisorderMs);
    else if (kind === 'late') eventTime = now - o.lateByMs - Math.floor(this.#random() * 1_000);
    const order = this.#order(eventTime);
    if (kind !== 'malformed') return { kind, key: order.customerId, order, timestamp: eventTime };

    const malformed = MALFORMED_KINDS[Math.floor(this.#random() * MALFORMED_KINDS.length)]!;
    switch (malformed) {
      case 'random-bytes': {
        const bytes = Buffer.alloc(1 + Math.floor(this.#random() * 32));
        for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(this.#random() * 256);
        return { kind, malformed, key: null, raw: bytes, timestamp: eventTime };
      }
      case 'empty-key':
        return { kind, malformed, key: '', raw: Buffer.from(JSON.stringify(order)), timestamp: eventTime };
      case 'missing-customer': {
        const { customerId: _dropped, ...rest } = order;
        return { kind, malformed, key: null, raw: Buffer.from(JSON.stringify(rest)), timestamp: eventTime };
      }
    }
  }

  #order(eventTime: number): Order {
    const random = this.#random;
    const customer = Math.floor(random() * random() * this.#o.customers);
    const items: OrderItem[] = [];
    const lines = 1 + Math.floor(random() * 3);
    for (let i = 0; i < lines; i++) {
      items.push({ sku: `sku-${Math.floor(random() * SKUS)}`, quantity: 1 + Math.floor(random() * 4), price: (100 + Math.floor(random() * 9_900)) / 100 });
    }
    const amount = Math.round(items.reduce((sum, item) => sum + item.quantity * item.price * 100, 0)) / 100;
    const currency = CURRENCIES[Math.floor(random() * CURRENCIES.length)]!;
    return { orderId: `order-${this.#o.seed}-${this.#next++}`, customerId: `customer-${customer}`, amount, currency, items, eventTime };
  }
}

/** Avro schema of `Order` (for DEMO_FORMAT=avro). */
export const ORDER_AVRO_SCHEMA = {
  type: 'record',
  name: 'Order',
  namespace: 'convoy.demo',
  fields: [
    { name: 'orderId', type: 'string' },
    { name: 'customerId', type: 'string' },
    { name: 'amount', type: 'double' },
    { name: 'currency', type: 'string' },
    {
      name: 'items',
      type: {
        type: 'array',
        items: {
          type: 'record',
          name: 'OrderItem',
          fields: [
            { name: 'sku', type: 'string' },
            { name: 'quantity', type: 'int' },
            { name: 'price', type: 'double' },
          ],
        },
      },
    },
    { name: 'eventTime', type: 'long' },
  ],
} as const;
