import type PQueue from 'p-queue';

/** Waits for the send queue to drain, at most `timeoutMs`; true when it drained. */
export async function idleWithin(queue: PQueue, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), Math.max(0, timeoutMs));
  });
  const result = await Promise.race([queue.onIdle().then(() => 'idle' as const), timedOut]);
  clearTimeout(timer);
  return result === 'idle';
}
