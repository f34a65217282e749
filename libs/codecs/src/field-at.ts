/**
 * The value at a dot path (`'customer.id'`) in a decoded payload, or undefined when any step is
 * missing or not an object. Array indices work as path steps (`'items.0.sku'`). Own properties only.
 */
export function fieldAt(value: unknown, path: string): unknown {
  let current: unknown = value;
  for (const step of path.split('.')) {
    if (typeof current !== 'object' || current === null || !Object.prototype.hasOwnProperty.call(current, step)) return undefined;
    current = (current as Record<string, unknown>)[step];
  }
  return current;
}
