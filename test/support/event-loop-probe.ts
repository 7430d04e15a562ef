// How long the event loop was blocked by this process's own work: the longest stretch between
// two turns of a 10 ms interval, counted in the CPU time the process spent in it (user + system,
// all its threads) rather than in wall time. Time the OS gave to other processes is not counted,
// so a machine whose cores are busy with other work does not make the figure grow, while a
// synchronous parse, match or copy of ours does. Used only where an issue asks for a bound on
// blocking, with the attack sized so the bug blows the bound many times over.
export interface EventLoopProbe {
  /** Stops probing; returns the longest blocked stretch seen, in CPU milliseconds. */
  stop(): number;
}

const cpuMs = (): number => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

export function probeEventLoop(): EventLoopProbe {
  let last = cpuMs();
  let worst = 0;
  const timer = setInterval(() => {
    const now = cpuMs();
    worst = Math.max(worst, now - last);
    last = now;
  }, 10);
  return {
    stop() {
      clearInterval(timer);
      worst = Math.max(worst, cpuMs() - last);
      return worst;
    },
  };
}
