// The settings several backends read (from the command line, CONFD_* and confd.toml), each declared
// once here; a backend lists them with its own in its folder (<name>/backend.ts: `options`), and
// cli/options.ts puts every backend's options into its one table.
import type { BackendOptionSpec } from './definition.js';

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
