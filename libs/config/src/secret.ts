const REDACTED = '[redacted]';

/**
 * A configuration value that must never be printed. Every way the value could end up in a log line,
 * an error message or a JSON dump (String(), template literals, JSON.stringify, util.inspect,
 * console.log) yields '[redacted]'. Only `reveal()` returns the value; call it where the value is
 * handed to the client that needs it, nowhere else.
 */
export class Secret {
  #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [Symbol.toPrimitive](): string {
    return REDACTED;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return REDACTED;
  }
}

export { REDACTED };
