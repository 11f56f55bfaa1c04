// The backend with its traffic counted for /metrics: the daemon wraps the backend it opened in this once.
import {
  hasChangeFeed,
  isWatchable,
  type Backend,
  type ChangeFeedBackend,
  type ChangeFeedHandlers,
  type PrefixWatch,
  type PrefixWatchHandlers,
  type Snapshot,
  type WatchableBackend,
} from '../backends/types.js';
import type { MetricsSink } from './metrics-sink.js';

/**
 * The backend with its traffic counted: every read as op "range" (the watch mirrors' reads and re-reads too), every
 * watch connection loss as an error of op "watch".
 */
export function instrumented(backend: Backend, metrics: MetricsSink): Backend {
  const getValues = async (prefixes: readonly string[]): Promise<Snapshot> => {
    const started = performance.now();
    try {
      const snapshot = await backend.getValues(prefixes);
      metrics.backendRequest('range', performance.now() - started, true);
      return snapshot;
    } catch (e) {
      metrics.backendRequest('range', performance.now() - started, false);
      throw e;
    }
  };
  const getValuesAt = async (prefixes: readonly string[], revision: number): Promise<Snapshot> => {
    const started = performance.now();
    try {
      const snapshot = await (backend as WatchableBackend).getValuesAt!(prefixes, revision);
      metrics.backendRequest('range', performance.now() - started, true);
      return snapshot;
    } catch (e) {
      metrics.backendRequest('range', performance.now() - started, false);
      throw e;
    }
  };
  const watchPrefix = (prefix: string, fromRevision: number, handlers: PrefixWatchHandlers): PrefixWatch => {
    metrics.backendRequest('watch', 0, true);
    return (backend as WatchableBackend).watchPrefix(prefix, fromRevision, {
      onEvents: (events, revision) => handlers.onEvents(events, revision),
      onProgress: (revision, hint) => handlers.onProgress(revision, hint),
      onCaughtUp: (revision) => handlers.onCaughtUp?.(revision),
      onCompacted: (revision) => handlers.onCompacted(revision),
      onConnection: (error) => {
        if (error) metrics.backendRequest('watch', 0, false);
        handlers.onConnection(error);
      },
    });
  };
  const watchChanges = (prefix: string, handlers: ChangeFeedHandlers): PrefixWatch => {
    metrics.backendRequest('watch', 0, true);
    return (backend as ChangeFeedBackend).watchChanges(prefix, {
      ...handlers,
      onConnection: (error) => {
        if (error) metrics.backendRequest('watch', 0, false);
        handlers.onConnection(error);
      },
    });
  };
  return new Proxy(backend, {
    get(target, prop) {
      if (prop === 'getValues') return getValues;
      if (prop === 'watchPrefix' && isWatchable(target)) return watchPrefix;
      if (prop === 'getValuesAt' && isWatchable(target) && target.getValuesAt) return getValuesAt;
      if (prop === 'watchChanges' && hasChangeFeed(target)) return watchChanges;
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
