// -watch over a backend whose data cannot change while the process runs (changeFeed "none": the
// environment). Its feed is one read per prefix; a liveness check is always answered, so
// -stale-after never fires for it. Then it waits, as confd's env WatchPrefix blocks until stopped.
import type { ChangeFeedBackend, ChangeFeedHandlers, PrefixWatch, StaticBackend } from '../backends/types.js';
import { defaultScheduler } from './scheduler.js';
import type { TimerSource } from '../time/timers.js';

export function staticFeed(backend: StaticBackend, timers: TimerSource = defaultScheduler): ChangeFeedBackend {
  const feeds = new Set<ChangeFeedHandlers>();
  return {
    name: backend.name,
    changeFeed: 'prefix-changed',
    getValues: (prefixes) => backend.getValues(prefixes),
    watchChanges(prefix: string, handlers: ChangeFeedHandlers): PrefixWatch {
      feeds.add(handlers);
      backend.getValues([prefix]).then(
        (snap) => {
          if (feeds.has(handlers)) handlers.onSnapshot(snap.kvs);
        },
        (e: Error) => {
          if (feeds.has(handlers)) handlers.onUnreadable(e);
        },
      );
      return {
        async cancel() {
          feeds.delete(handlers);
        },
      };
    },
    requestProgress(): void {
      timers.soon(() => {
        for (const h of feeds) h.onAlive();
      });
    },
    close: () => backend.close(),
  };
}
