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
