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
