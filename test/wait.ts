// Waiting in real-time tests: poll a condition until it holds, or fail after a deadline.

/** Resolves once `cond()` is true; throws 'timed out waiting' after `ms`. Polls every `everyMs`. */
export async function until(cond: () => Promise<boolean> | boolean, ms = 3000, everyMs = 5): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
