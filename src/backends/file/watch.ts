// `-watch` with the file backend. confd watches its files with fsnotify and re-reads them on any
// event; here chokidar watches each -file's directory (a file's own inode goes away when an editor
// saves by rename, and a Kubernetes ConfigMap swaps a `..data` symlink beside it) or each -file
// directory, and every event re-reads all the files. Each read that differs from the last one is a
// new revision (1, 2, ...) whose puts and deletes go to the prefix watches, so the runtime's
// mirrors (runtime/mirror.ts) work as they do with etcd. Revisions are counted only once a watch
// exists: -onetime and -interval read at revision 0, as before.
import { stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { FSWatcher } from 'chokidar';
import type { Logger } from '../../log.js';
import { compareByKey, covers, selectCovered } from '../../keys/index.js';
import type { PrefixWatch, PrefixWatchHandlers, Snapshot, WatchableBackend, WatchEvent } from '../types.js';

/** Revisions kept for watches that start after the read they follow (a few milliseconds behind). */
const HISTORY = 64;
/** An editor's truncate-then-write, or a ConfigMap swap's several events, give one re-read. */
const DEBOUNCE_MS = 20;

interface Watcher {
  readonly prefix: string;
  readonly handlers: PrefixWatchHandlers;
}

export interface FileWatchOptions {
  files: readonly string[];
  /** Reads every file into one flat key map (file/index.ts); throws on a missing or broken file. */
  read: () => Promise<Map<string, string>>;
  log?: Logger;
}

export function watchableFiles(opts: FileWatchOptions): WatchableBackend {
  let current: Map<string, string> | undefined;
  let revision = 0;
  const history: Array<{ revision: number; events: WatchEvent[] }> = [];
  const watchers = new Set<Watcher>();
  let fsWatcher: Promise<FSWatcher[]> | undefined;
  let failing = false;
  let closed = false;
  // Reads one at a time, so each is compared with the one before it.
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(work: () => Promise<T>): Promise<T> => {
    const next = queue.then(work, work);
    queue = next.catch(() => undefined);
    return next;
  };

  /** Reads the files; once watching, a difference from the last read becomes a revision sent to the watches. */
  const readAndDiff = (): Promise<Map<string, string>> =>
    serial(async () => {
      const next = await opts.read();
      if (fsWatcher && current) {
        const events = diff(current, next, revision + 1);
        if (events.length > 0) {
          revision++;
          history.push({ revision, events });
          if (history.length > HISTORY) history.shift();
          opts.log?.debug(`file backend: ${events.length} keys changed (revision ${revision})`);
          for (const w of watchers) deliver(w, events);
        }
      }
      current = next;
      return next;
    });

  const deliver = (w: Watcher, events: readonly WatchEvent[]) => {
    const mine = events.filter((e) => covers(w.prefix, e.key));
    if (mine.length > 0) w.handlers.onEvents(mine, revision);
    else w.handlers.onProgress(revision);
  };

  /** On a file system event: re-read, and tell the watches whether the files can be read. */
  const refresh = async () => {
    try {
      await readAndDiff();
      if (failing) {
        failing = false;
        opts.log?.info('file backend: the files can be read again');
        for (const w of watchers) w.handlers.onConnection(undefined);
      }
    } catch (e) {
      // The last good keys stay in the mirrors; the next event reads again.
      if (!failing) opts.log?.error(`file backend: ${(e as Error).message}`);
      failing = true;
      for (const w of watchers) w.handlers.onConnection(e as Error);
    }
  };

  let timer: NodeJS.Timeout | undefined;
  const startWatching = async (): Promise<FSWatcher[]> => {
    const { watch } = await import('chokidar');
    const started: FSWatcher[] = [];
    for (const f of opts.files) {
      const path = resolve(f);
      const isDir = await stat(path).then(
        (s) => s.isDirectory(),
        () => false,
      );
      // A file's directory is watched alone (depth 0), not its subtree; chokidar's depth is per watcher.
      const w = isDir ? watch(path, { ignoreInitial: true, atomic: false }) : watch(dirname(path), { ignoreInitial: true, atomic: false, depth: 0 });
      w.on('all', () => {
        clearTimeout(timer);
        if (!closed) timer = setTimeout(() => void refresh(), DEBOUNCE_MS);
      });
      w.on('error', (e) => opts.log?.error(`file backend: watching ${path}: ${(e as Error).message}`));
      started.push(w);
    }
    await Promise.all(started.map((w) => new Promise<void>((done) => w.once('ready', () => done()))));
    // A change between the first read and the watch being live would otherwise go unseen.
    void refresh();
    return started;
  };

  return {
    name: 'file',
    async getValues(prefixes: readonly string[]): Promise<Snapshot> {
      const all = await readAndDiff();
      return { kvs: selectCovered(all, prefixes), revision };
    },
    watchPrefix(prefix: string, fromRevision: number, handlers: PrefixWatchHandlers): PrefixWatch {
      const w: Watcher = { prefix, handlers };
      if (!fsWatcher && !closed) {
        fsWatcher = startWatching();
        fsWatcher.catch((e) => opts.log?.error(`file backend: cannot watch the files: ${(e as Error).message}`));
      }
      // Like etcd, a watch answers asynchronously: first what it missed since fromRevision.
      queueMicrotask(() => {
        if (closed) return;
        const oldest = history[0]?.revision ?? revision + 1;
        if (fromRevision <= revision && fromRevision < oldest) {
          handlers.onCompacted(oldest - 1);
          return;
        }
        watchers.add(w);
        const missed = history.filter((h) => h.revision >= fromRevision).flatMap((h) => h.events.filter((e) => covers(prefix, e.key)));
        if (missed.length > 0) handlers.onEvents(missed, revision);
      });
      return {
        async cancel() {
          watchers.delete(w);
        },
      };
    },
    requestProgress(): void {
      setImmediate(() => {
        for (const w of watchers) w.handlers.onProgress(revision);
      });
    },
    async close(): Promise<void> {
      closed = true;
      clearTimeout(timer);
      watchers.clear();
      const started = await fsWatcher?.catch(() => undefined);
      await Promise.all((started ?? []).map((w) => w.close()));
    },
  };
}

/** The puts and deletes that turn `before` into `after`, in key order. */
function diff(before: Map<string, string>, after: Map<string, string>, revision: number): WatchEvent[] {
  const events: WatchEvent[] = [];
  for (const [key, value] of after) {
    if (before.get(key) !== value) events.push({ type: 'put', key, value, revision });
  }
  for (const key of before.keys()) {
    if (!after.has(key)) events.push({ type: 'delete', key, value: '', revision });
  }
  return events.sort(compareByKey);
}
