// Polls a condition until it holds or the time runs out (then fails the test with a message).
export async function until(
  cond: () => boolean | Promise<boolean>,
  ms = 8000,
  what = 'condition',
): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`${what} not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 15));
  }
}

/**
 * Waits until the wall clock is in the next whole second: a deploy made before this call can then
 * never share a second with an alert that starts after it (API times have 1 s resolution, and a
 * time within the alert's own second counts as possibly after it).
 */
export async function nextWholeSecond(): Promise<void> {
  const next = Math.floor(Date.now() / 1000) * 1000 + 1000;
  await until(() => Date.now() >= next, 10_000, 'the clock to reach the next second');
}
