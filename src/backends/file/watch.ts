// `-watch` with the file backend, a "prefix changed" change feed (backends/definition.ts). confd
// watches its files with fsnotify and re-reads them on any event; here chokidar watches each -file's
// directory (a file's own inode goes away when an editor saves by rename, and a Kubernetes ConfigMap
// swaps a `..data` symlink beside it) or each -file directory, and every event re-reads all the
// files. The keys that differ from the last read go to the feeds of the prefixes covering them. No
// revisions: files have none, and none are made up.
import { stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { FSWatcher } from 'chokidar';
import type { Logger } from '../../log.js';
import { compareByKey, covers, selectCovered } from '../../keys/index.js';
import type { ChangeFeedBackend, ChangeFeedHandlers, KeyChange, PrefixWatch, Snapshot } from '../types.js';
import { Backoff } from '../../time/backoff.js';
import { debounce } from '../../time/debounce.js';
import { hostTimers, type Timer, type TimerSource } from '../../time/timers.js';

/** An editor's truncate-then-write, or a ConfigMap swap's several events, give one re-read. */
const DEBOUNCE_MS = 20;
/**
 * chokidar drops a second `change` of one path within 50 ms of the first, with no trailing event
 * (index.js `_throttle(EV.CHANGE, path, 50)`): a file saved twice 30 ms apart gave one event, the
 * read it caused saw the first save, and the second stayed unseen until -interval. So every burst of
 * events is read once more after that window has passed; a read that finds nothing new sends nothing.
 */
const CHOKIDAR_CHANGE_THROTTLE_MS = 50;
const TRAILING_READ_MS = CHOKIDAR_CHANGE_THROTTLE_MS + 20;
/**
 * Events that never pause for the debounce (a log beside the file written every few ms, many files
 * of a -file directory) still give a read this long after the first of them: the debounce alone
 * put every read off until they stopped.
 */
const BURST_READ_MS = 100;
/**
 * While the files cannot be read, they are read again after 200 ms, then 400, ... at most 5 s apart
 * (as the runtime retries a read): a file event may never come (a -file in a directory that does not exist yet).
 */
const RETRY_MS = { minMs: 200, maxMs: 5_000 };

interface Feed {
  readonly prefix: string;
  readonly handlers: ChangeFeedHandlers;
  /** Its first snapshot went out: later reads send it the keys that changed. */
  live: boolean;
}

export interface FileWatchOptions {
  files: readonly string[];
  /** Reads every file into one flat key map (file/index.ts); throws on a missing or broken file. */
  read: () => Promise<Map<string, string>>;
  log?: Logger;
  /** The runtime's scheduler (the host's timers by default). */
  timers?: TimerSource;
}

export function watchableFiles(opts: FileWatchOptions): ChangeFeedBackend {
  let current: Map<string, string> | undefined;
  const feeds = new Set<Feed>();
  let fsWatcher: Promise<FSWatcher[]> | undefined;
  /**
   * A -file was missing when the watch started: chokidar sees nothing under a directory that does not
   * exist, and a -file directory not there yet was watched as a file would be (its parent, depth 0).
   * Once a read finds every file, the watch starts again on what is there now (as after any failed read).
   */
  let watchedMissing = false;
  let failing = false;
  let closed = false;
  // Reads one at a time, so each is compared with the one before it.
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(work: () => Promise<T>): Promise<T> => {
    const next = queue.then(work, work);
    queue = next.catch(() => undefined);
    return next;
  };

  /** Reads the files and sends each live feed the keys under its prefix that differ from the last read. */
  const readAndSend = async (): Promise<Map<string, string>> => {
    const next = await opts.read();
    if (current) {
      const changes = diff(current, next);
      if (changes.length > 0) {
        opts.log?.debug(`file backend: ${changes.length} keys changed`);
        for (const f of feeds) {
          if (!f.live) continue;
          const mine = changes.filter((c) => covers(f.prefix, c.key));
          if (mine.length > 0) f.handlers.onKeys(mine);
        }
      }
    }
    current = next;
    return next;
  };

  const start = (f: Feed, all: Map<string, string>) => {
    f.live = true;
    f.handlers.onSnapshot(selectCovered(all, [f.prefix]));
  };

  /**
   * On a file system event or a new feed: re-read, and tell the feeds whether the files can be read.
   * Calls made before the queued read starts share it (the mirrors subscribe all their prefixes at once: one read).
   */
  let queued: Promise<void> | undefined;
  const refresh = (): Promise<void> =>
    (queued ??= serial(async () => {
      queued = undefined;
      try {
        const all = await readAndSend();
        // After a failed read, too: the files may be new ones in a directory removed and made again,
        // which the old watch (on the removed directory) never reports.
        if ((watchedMissing || failing) && !closed) rewatch();
        if (failing) {
          failing = false;
          opts.log?.info('file backend: the files can be read again');
          for (const f of feeds) f.handlers.onConnection(undefined);
          for (const f of feeds) start(f, all);
        } else {
          for (const f of feeds) if (!f.live) start(f, all);
        }
        retries.reset();
      } catch (e) {
        // The last good keys stay in the mirrors; the next event, or the retry, reads again.
        if (!failing) opts.log?.error(`file backend: ${(e as Error).message}`);
        failing = true;
        for (const f of feeds) f.handlers.onConnection(e as Error);
        retryTimer?.cancel();
        if (!closed && feeds.size > 0) retryTimer = timers.after(retries.next(), () => void refresh());
      }
    }));
  const timers = opts.timers ?? hostTimers;
  let retryTimer: Timer | undefined;
  const retries = new Backoff(RETRY_MS);

  const readBurst = debounce(timers, DEBOUNCE_MS, () => void refresh(), { maxWaitMs: BURST_READ_MS });
  const readAfterThrottle = debounce(timers, TRAILING_READ_MS, () => void refresh());
  const startWatching = async (): Promise<FSWatcher[]> => {
    const { watch } = await import('chokidar');
    const started: FSWatcher[] = [];
    let missing = false;
    for (const f of opts.files) {
      const path = resolve(f);
      const isDir = await stat(path).then(
        (s) => s.isDirectory(),
        () => {
          missing = true;
          return false;
        },
      );
      // A file's directory is watched alone (depth 0), not its subtree; chokidar's depth is per watcher.
      // A -file directory's subtree is watched as it is read (index.ts findFiles): never through a
      // symlinked directory, which chokidar followed into loops (ELOOP, or out of memory with a link
      // to the parent beside one) and out of the tree. A ConfigMap swap renames a link in the tree: seen.
      const w = isDir
        ? watch(path, { ignoreInitial: true, atomic: false, followSymlinks: false })
        : watch(dirname(path), { ignoreInitial: true, atomic: false, depth: 0 });
      w.on('all', () => {
        if (closed) return;
        readBurst();
        readAfterThrottle();
      });
      w.on('error', (e) => opts.log?.error(`file backend: watching ${path}: ${(e as Error).message}`));
      started.push(w);
    }
    await Promise.all(started.map((w) => new Promise<void>((done) => w.once('ready', () => done()))));
    watchedMissing = missing;
    // A change between the first read and the watch being live would otherwise go unseen.
    void refresh();
    return started;
  };

  const watchFiles = (): void => {
    fsWatcher = startWatching();
    fsWatcher.catch((e) => opts.log?.error(`file backend: cannot watch the files: ${(e as Error).message}`));
  };
  const rewatch = (): void => {
    watchedMissing = false;
    const before = fsWatcher;
    watchFiles();
    void before?.then((ws) => Promise.all(ws.map((w) => w.close()))).catch(() => undefined);
  };

  return {
    name: 'file',
    changeFeed: 'prefix-changed',
    async getValues(prefixes: readonly string[]): Promise<Snapshot> {
      const all = await serial(readAndSend);
      return { kvs: selectCovered(all, prefixes), revision: 0 };
    },
    watchChanges(prefix: string, handlers: ChangeFeedHandlers): PrefixWatch {
      const feed: Feed = { prefix, handlers, live: false };
      feeds.add(feed);
      if (!fsWatcher && !closed) watchFiles();
      // The feed's first answer is the prefix read afresh (the mirror's start-up read).
      void refresh();
      return {
        async cancel() {
          feeds.delete(feed);
        },
      };
    },
    requestProgress(): void {
      timers.soon(() => {
        for (const f of feeds) if (f.live && !failing) f.handlers.onAlive();
      });
    },
    async close(): Promise<void> {
      closed = true;
      readBurst.cancel();
      readAfterThrottle.cancel();
      retryTimer?.cancel();
      feeds.clear();
      const started = await fsWatcher?.catch(() => undefined);
      await Promise.all((started ?? []).map((w) => w.close()));
    },
  };
}

/** The keys that differ between `before` and `after` (undefined: gone), in key order. */
function diff(before: Map<string, string>, after: Map<string, string>): KeyChange[] {
  const changes: KeyChange[] = [];
  for (const [key, value] of after) {
    if (before.get(key) !== value) changes.push({ key, value });
  }
  for (const key of before.keys()) {
    if (!after.has(key)) changes.push({ key, value: undefined });
  }
  return changes.sort(compareByKey);
}
