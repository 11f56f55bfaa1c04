// Go durations (confd and consul-template settings are written in Go's time.ParseDuration syntax):
// -stale-after, a resource's min_reload_interval and command_timeout, and -wait / a resource's wait.

const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Go's time.ParseDuration (without the sign), in milliseconds. A bare number means seconds. */
export function parseDurationMs(text: string): number {
  const t = text.trim();
  if (/^\d+(\.\d+)?$/.test(t)) return Number(t) * 1000;
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let consumed = 0;
  for (let m = re.exec(t); m; m = re.exec(t)) {
    total += Number(m[1]) * UNIT_MS[m[2]!]!;
    consumed = re.lastIndex;
  }
  if (t === '' || consumed !== t.length) throw new Error(`invalid duration "${text}"`);
  return total;
}

/** -watch's quiescence window: render once no change came for `minMs`, or at the latest `maxMs` after the first. */
export interface WaitWindow {
  readonly minMs: number;
  readonly maxMs: number;
}

/**
 * Without -wait a change renders at once (as confd); changes that arrive while a render runs are
 * coalesced into the next one. -wait 50ms:1s trades latency for far fewer writes under bursts.
 */
export const DEFAULT_WAIT: WaitWindow = { minMs: 0, maxMs: 0 };

/** "min:max" or "min" (max = 4 × min, as consul-template). */
export function parseWait(text: string): WaitWindow {
  const [minText, maxText, extra] = text.split(':');
  if (extra !== undefined) throw new Error(`invalid wait "${text}": expected min:max, e.g. 50ms:1s`);
  const minMs = parseDurationMs(minText!);
  const maxMs = maxText === undefined ? minMs * 4 : parseDurationMs(maxText);
  if (maxMs < minMs) throw new Error(`invalid wait "${text}": max is below min`);
  return { minMs, maxMs };
}
