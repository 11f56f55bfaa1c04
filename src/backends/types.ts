// The one small interface every backend implements. The runtime asks for whole key
// prefixes; a backend answers with every key equal to a prefix or below it ("/app" covers
// "/app" and "/app/x", never "/apple"), read at one consistent revision where the store has one.

export interface KeyValue {
  readonly key: string;
  readonly value: string;
}

export interface Snapshot {
  /** Keys sorted by byte order, no duplicates. */
  readonly kvs: KeyValue[];
  /** The store revision the read was made at (etcd's header revision); 0 where the backend has none. */
  readonly revision: number;
}

export interface Backend {
  readonly name: string;
  /** Every key equal to one of the prefixes or below it ("prefix/..."), at one revision. */
  getValues(prefixes: readonly string[]): Promise<Snapshot>;
  close(): Promise<void>;
}
