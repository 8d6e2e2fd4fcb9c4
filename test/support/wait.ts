/**
 * The one way tests wait: poll `read` until `ok` holds for its value. A read that throws
 * counts as "not yet" (during a fault a read may fail); past `timeoutMs` the error names what
 * was awaited, the last value and the last error.
 */
export async function waitFor<T>(what: string, read: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 120_000, everyMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  let lastErr: unknown;
  for (;;) {
    try {
      last = await read();
      if (ok(last)) return last;
      lastErr = undefined;
    } catch (err) {
      lastErr = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last value ${JSON.stringify(last)}${lastErr ? `; last error ${String(lastErr)}` : ''}`);
    }
    await sleep(everyMs);
  }
}

/** A pause on purpose: an outage that lasts, or a window in which nothing may happen. Never a wait for something. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
