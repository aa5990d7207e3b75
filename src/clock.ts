// Time behind one interface, so every part's timing can be driven in tests
// (test/helpers/clock.ts fakes it): the loop, its queue, the runtime
// applier's drains, the HAProxy supervisor and its master socket.
export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
  /** Calls fn once after ms; the returned function cancels it. */
  after(ms: number, fn: () => void): () => void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  after: (ms, fn) => {
    const t = setTimeout(fn, ms);
    return () => clearTimeout(t);
  },
};

/** Calls fn every ms (first after ms) until the returned function is called. */
export function every(clock: Clock, ms: number, fn: () => void): () => void {
  let stopped = false;
  let cancel = (): void => undefined;
  const arm = (): void => {
    cancel = clock.after(ms, () => {
      if (stopped) return;
      arm();
      fn();
    });
  };
  arm();
  return () => {
    stopped = true;
    cancel();
  };
}
