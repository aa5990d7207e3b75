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
