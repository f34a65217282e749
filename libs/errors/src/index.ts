/**
 * Every error Convoy raises carries a stable string `code` and a `retriable` flag.
 * Retry decisions read `retriable`; they never branch on the class.
 */
export interface ConvoyErrorOptions {
  retriable?: boolean;
  cause?: unknown;
  context?: Record<string, unknown>;
}

export class ConvoyError extends Error {
  readonly code: string;
  readonly retriable: boolean;
  readonly context: Record<string, unknown>;

  constructor(code: string, message: string, options: ConvoyErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ConvoyError';
    this.code = code;
    this.retriable = options.retriable ?? false;
    this.context = options.context ?? {};
  }
}

export function isConvoyError(error: unknown): error is ConvoyError {
  return error instanceof ConvoyError;
}

/** Retriable unless the error says otherwise; unknown errors are treated as not retriable. */
export function isRetriable(error: unknown): boolean {
  if (error instanceof ConvoyError) return error.retriable;
  if (typeof error === 'object' && error !== null && 'retriable' in error) {
    return (error as { retriable: unknown }).retriable === true;
  }
  return false;
}

export function errorCode(error: unknown): string {
  if (error instanceof ConvoyError) return error.code;
  if (typeof error === 'object' && error !== null) {
    const named = error as { type?: unknown; code?: unknown; name?: unknown };
    if (typeof named.type === 'string') return named.type;
    if (typeof named.code === 'string') return named.code;
    if (typeof named.name === 'string') return named.name;
  }
  return 'UNKNOWN';
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
