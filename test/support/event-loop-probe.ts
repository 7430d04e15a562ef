// A timer-lag probe: how long the event loop of this process (and of a server started in it)
// was kept from running timers. Used only where an issue asks for a timed bound on blocking, with
// the attack sized so the bug blows the bound many times over and the fix stays far under it.
export interface EventLoopProbe {
  /** The longest a 10 ms timer was late, in ms, since the probe started. */
  stop(): number;
}

export function probeEventLoop(): EventLoopProbe {
  const period = 10;
  let last = performance.now();
  let worst = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    worst = Math.max(worst, now - last - period);
    last = now;
  }, period);
  return {
    stop() {
      clearInterval(timer);
      worst = Math.max(worst, performance.now() - last - period);
      return worst;
    },
  };
}
