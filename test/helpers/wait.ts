// Bounded polling for tests that watch a running process or runtime: a timeout names what was awaited.
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls check() until it holds and returns the ms it took; throws after timeoutMs with detail() appended. */
export async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 15_000, detail: () => string = () => ''): Promise<number> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n${detail()}`);
    await sleep(25);
  }
  return Date.now() - started;
}

/**
 * Polls cond() every stepMs for up to ms; the ms until it held, or undefined if it never did.
 * Unlike until() it does not throw, for tests whose own assertion (and message) judges the outcome.
 */
export async function timeUntil(cond: () => boolean, ms: number, stepMs = 50): Promise<number | undefined> {
  const start = Date.now();
  while (Date.now() - start < ms) {
    if (cond()) return Date.now() - start;
    await sleep(stepMs);
  }
  return cond() ? Date.now() - start : undefined;
}

/** Whether cond() came to hold within ms (polled every stepMs); see timeUntil. */
export async function waitFor(cond: () => boolean, ms: number, stepMs = 100): Promise<boolean> {
  return (await timeUntil(cond, ms, stepMs)) !== undefined;
}
