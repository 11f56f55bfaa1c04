// The settings a backend reads from the command line, CONFD_* and confd.toml, as each backend
// declares them in its folder (<name>/backend.ts: `options`). cli/options.ts puts every backend's
// options into its one table, and its Options type and defaults are derived from these
// declarations (registry.ts: BackendSettings, backendDefaults). An option several backends read is
// declared once, here.

export type BackendOptionType = 'boolean' | 'string' | 'list';

/** The value a setting of each type holds. */
export type BackendOptionValue<T extends BackendOptionType> = T extends 'boolean' ? boolean : T extends 'list' ? string[] : string;

export interface BackendOptionSpec<K extends string = string, T extends BackendOptionType = BackendOptionType> {
  /** The settings field it sets (BackendSettings, cli's Options). */
  readonly key: K;
  readonly flag: string;
  readonly type: T;
  /** The value when nothing sets it; the type's zero value (false, "", no items) when left out, as Go's flags. */
  readonly default?: BackendOptionValue<T>;
  /** -h's usage text. */
  readonly describe: string;
  /** confd.toml keys, confd's spelling first (default: the flag with "_" and with "-"). */
  readonly fileKeys?: readonly string[];
  /** Environment variables, highest priority first (default: CONFD_ and the flag in capitals). */
  readonly envVars?: readonly string[];
}

/** Declares an option, keeping its key and type for the settings types derived from it. */
export function backendOption<const K extends string, const T extends BackendOptionType>(spec: BackendOptionSpec<K, T>): BackendOptionSpec<K, T> {
  return spec;
}

/** The settings a list of option declarations gives: one field per key, typed by its option's type. */
export type SettingsOf<O extends readonly BackendOptionSpec[]> = {
  -readonly [S in O[number] as S['key']]: BackendOptionValue<S['type']>;
};

/** An option's value when nothing sets it (a fresh list each time). */
export function optionDefault(spec: BackendOptionSpec): boolean | string | string[] {
  if (spec.default !== undefined) return Array.isArray(spec.default) ? [...spec.default] : spec.default;
  return spec.type === 'boolean' ? false : spec.type === 'list' ? [] : '';
}

export const NODE_OPTION = backendOption({
  key: 'nodes',
  flag: 'node',
  type: 'list',
  describe: 'list of backend nodes (repeatable; redis: host:port[/DB] or a unix socket path)',
  fileKeys: ['nodes', 'node'],
  envVars: ['CONFD_NODE', 'CONFD_NODES'],
});

export const CLIENT_CERT_OPTION = backendOption({ key: 'clientCert', flag: 'client-cert', type: 'string', describe: 'the client cert' });

export const CLIENT_KEY_OPTION = backendOption({ key: 'clientKey', flag: 'client-key', type: 'string', describe: 'the client key' });

export const CLIENT_CA_KEYS_OPTION = backendOption({
  key: 'clientCaKeys',
  flag: 'client-ca-keys',
  type: 'string',
  describe: 'client ca keys',
  fileKeys: ['client_cakeys', 'client_ca_keys', 'client-ca-keys'],
  envVars: ['CONFD_CLIENT_CAKEYS', 'CONFD_CLIENT_CA_KEYS'],
});

export const CLIENT_INSECURE_OPTION = backendOption({
  key: 'clientInsecure',
  flag: 'client-insecure',
  type: 'boolean',
  describe: 'allow connections to TLS servers without verifying their certificate',
});

export const BASIC_AUTH_OPTION = backendOption({ key: 'basicAuth', flag: 'basic-auth', type: 'boolean', describe: 'use basic auth to authenticate (etcd backends)' });

export const USERNAME_OPTION = backendOption({ key: 'username', flag: 'username', type: 'string', describe: 'the username to authenticate as' });

export const PASSWORD_OPTION = backendOption({
  key: 'password',
  flag: 'password',
  type: 'string',
  describe: 'the password to authenticate with (etcd with -basic-auth; redis, where confd used -client-key)',
});
