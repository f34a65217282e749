/**
 * The record key of a window's results: `${key}|${windowStart}|${windowEnd}`. Every version of one
 * window shares it, so a compacted topic keeps the latest version. The two numeric fields are last,
 * so a key that itself contains `|` still parses unambiguously from the right.
 */
export function windowResultKey(key: string, windowStart: number, windowEnd: number): string {
  return `${key}|${windowStart}|${windowEnd}`;
}

export function parseWindowResultKey(
  resultKey: string,
): { key: string; windowStart: number; windowEnd: number } | undefined {
  const endBar = resultKey.lastIndexOf('|');
  const startBar = endBar > 0 ? resultKey.lastIndexOf('|', endBar - 1) : -1;
  if (startBar < 0) return undefined;
  const windowStart = Number(resultKey.slice(startBar + 1, endBar));
  const windowEnd = Number(resultKey.slice(endBar + 1));
  if (!Number.isSafeInteger(windowStart) || !Number.isSafeInteger(windowEnd)) return undefined;
  if (resultKey.slice(startBar + 1, endBar) === '' || resultKey.slice(endBar + 1) === '') return undefined;
  return { key: resultKey.slice(0, startBar), windowStart, windowEnd };
}
