// A background loop that runs at its own pace (CONVENTIONS #6): one tick at a time, the next one
// `every_ms` after the previous ended, and stop() waits for the tick in progress. The scanner,
// sweeper, hot-wallet refresher, outbox consumers and webhooks all run on it.

export interface IntervalWorker {
  name: string;
  start(): void;
  stop(): Promise<void>;
}

/** platform.workers.push(intervalWorker('sweeper', 60_000, () => sweeper.planSweeps(), (e) => log.warn(e))) */
export function intervalWorker(name: string, every_ms: number, tick: () => Promise<unknown>, onError: (error: unknown) => void = () => undefined): IntervalWorker {
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> | null = null;
  let stopped = false;
  const loop = () => {
    timer = null;
    running = tick()
      .then(() => undefined, onError)
      .finally(() => {
        running = null;
        if (!stopped) timer = setTimeout(loop, every_ms);
      });
  };
  return {
    name,
    start() {
      if (!timer && !running && !stopped) timer = setTimeout(loop, every_ms);
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = null;
      await running;
    },
  };
}
