// The part of node-zookeeper-client 1.1 (which ships no types) that the zookeeper backend uses.
declare module 'node-zookeeper-client' {
  import type { EventEmitter } from 'node:events';

  export interface State {
    getName(): string;
    getCode(): number;
  }
  export interface Event {
    getType(): number;
    getName(): string;
    getPath(): string;
  }
  export interface Exception extends Error {
    getCode(): number;
    getName(): string;
  }
  export interface Stat {
    numChildren: number;
  }
  export type Watcher = (event: Event) => void;
  export interface Client extends EventEmitter {
    connect(): void;
    close(): void;
    getState(): State;
    getChildren(path: string, watcher: Watcher | undefined, callback: (error: Exception | null, children: string[], stat: Stat) => void): void;
    getData(path: string, watcher: Watcher | undefined, callback: (error: Exception | null, data: Buffer | null, stat: Stat) => void): void;
    exists(path: string, watcher: Watcher | undefined, callback: (error: Exception | null, stat: Stat | null) => void): void;
  }
  export interface ClientOptions {
    sessionTimeout?: number;
    spinDelay?: number;
    retries?: number;
  }
  export function createClient(connectionString: string, options?: ClientOptions): Client;
  export const State: {
    readonly DISCONNECTED: State;
    readonly SYNC_CONNECTED: State;
    readonly EXPIRED: State;
    readonly AUTH_FAILED: State;
    readonly CONNECTED_READ_ONLY: State;
  };
  export const Event: {
    readonly NODE_CREATED: number;
    readonly NODE_DELETED: number;
    readonly NODE_DATA_CHANGED: number;
    readonly NODE_CHILDREN_CHANGED: number;
  };
  export const Exception: {
    readonly NO_NODE: number;
    readonly CONNECTION_LOSS: number;
    readonly SESSION_EXPIRED: number;
  };
}
