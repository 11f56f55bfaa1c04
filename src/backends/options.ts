// The settings a backend reads from the command line, CONFD_* and confd.toml, as each backend
// declares them in its folder (<name>/backend.ts: `options`). cli/options.ts puts every backend's
// options into its one table. An option several backends read is declared once, here.
import type { BackendOptions } from './definition.js';

export interface BackendOptionSpec {
  /** The field of BackendOptions it sets. */
  readonly key: Exclude<keyof BackendOptions, 'backend' | 'interval' | 'onetime'>;
  readonly flag: string;
  readonly type: 'boolean' | 'string' | 'list';
  /** -h's usage text. */
  readonly describe: string;
  /** confd.toml keys, confd's spelling first (default: the flag with "_" and with "-"). */
  readonly fileKeys?: readonly string[];
  /** Environment variables, highest priority first (default: CONFD_ and the flag in capitals). */
  readonly envVars?: readonly string[];
}

export const NODE_OPTION: BackendOptionSpec = {
  key: 'nodes',
  flag: 'node',
  type: 'list',
  describe: 'list of backend nodes (repeatable; redis: host:port[/DB] or a unix socket path)',
  fileKeys: ['nodes', 'node'],
  envVars: ['CONFD_NODE', 'CONFD_NODES'],
};

export const CLIENT_CERT_OPTION: BackendOptionSpec = { key: 'clientCert', flag: 'client-cert', type: 'string', describe: 'the client cert' };

export const CLIENT_KEY_OPTION: BackendOptionSpec = { key: 'clientKey', flag: 'client-key', type: 'string', describe: 'the client key' };

export const CLIENT_CA_KEYS_OPTION: BackendOptionSpec = {
  key: 'clientCaKeys',
  flag: 'client-ca-keys',
  type: 'string',
  describe: 'client ca keys',
  fileKeys: ['client_cakeys', 'client_ca_keys', 'client-ca-keys'],
  envVars: ['CONFD_CLIENT_CAKEYS', 'CONFD_CLIENT_CA_KEYS'],
};

export const CLIENT_INSECURE_OPTION: BackendOptionSpec = {
  key: 'clientInsecure',
  flag: 'client-insecure',
  type: 'boolean',
  describe: 'allow connections to TLS servers without verifying their certificate',
};

export const BASIC_AUTH_OPTION: BackendOptionSpec = { key: 'basicAuth', flag: 'basic-auth', type: 'boolean', describe: 'use basic auth to authenticate (etcd backends)' };

export const USERNAME_OPTION: BackendOptionSpec = { key: 'username', flag: 'username', type: 'string', describe: 'the username to authenticate as' };

export const PASSWORD_OPTION: BackendOptionSpec = {
  key: 'password',
  flag: 'password',
  type: 'string',
  describe: 'the password to authenticate with (etcd with -basic-auth; redis, where confd used -client-key)',
};
