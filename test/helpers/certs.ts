// Test certificates made with openssl the way cfssl makes the seed's (see the seed's part 3):
// a CA, server and peer certificates valid for 127.0.0.1/localhost, a client-auth certificate,
// and a second, unrelated CA for "the server is not signed by our CA" cases.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface CertPair {
  readonly cert: string;
  readonly key: string;
}

export interface TestCerts {
  readonly dir: string;
  /** CA that signed server, peer and client certificates. */
  readonly ca: string;
  readonly server: CertPair;
  readonly peer: CertPair;
  readonly client: CertPair;
  /** A CA that signed nothing the cluster uses, and a client pair it signed. */
  readonly otherCa: string;
  readonly otherClient: CertPair;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

function makeCa(dir: string, name: string): { cert: string; key: string } {
  const key = join(dir, `${name}-key.pem`);
  const cert = join(dir, `${name}.pem`);
  openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', key], dir);
  openssl(
    [
      'req', '-x509', '-new', '-key', key, '-subj', `/CN=tsconfd test ${name}`, '-days', '2', '-out', cert,
      '-addext', 'basicConstraints=critical,CA:TRUE',
      '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
    ],
    dir,
  );
  return { cert, key };
}

let serial = 1000;

function makeLeaf(dir: string, ca: { cert: string; key: string }, name: string, extensions: string): CertPair {
  const key = join(dir, `${name}-key.pem`);
  const cert = join(dir, `${name}.pem`);
  const csr = join(dir, `${name}.csr`);
  const ext = join(dir, `${name}.ext`);
  writeFileSync(ext, extensions);
  openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', key], dir);
  openssl(['req', '-new', '-key', key, '-subj', `/CN=${name}`, '-out', csr], dir);
  serial += 1;
  openssl(
    ['x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-set_serial', String(serial), '-days', '2', '-out', cert, '-extfile', ext],
    dir,
  );
  return { cert, key };
}

const SERVER_EXT = 'extendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n';
const CLIENT_EXT = 'extendedKeyUsage=clientAuth\n';

/** Generates a fresh set in a new temp directory (removed by the caller with the cluster). */
export function generateCerts(parent = tmpdir()): TestCerts {
  const dir = mkdtempSync(join(parent, 'tsconfd-certs-'));
  const ca = makeCa(dir, 'ca');
  const other = makeCa(dir, 'other-ca');
  return {
    dir,
    ca: ca.cert,
    server: makeLeaf(dir, ca, 'server', SERVER_EXT),
    peer: makeLeaf(dir, ca, 'peer', SERVER_EXT),
    client: makeLeaf(dir, ca, 'client', CLIENT_EXT),
    otherCa: other.cert,
    otherClient: makeLeaf(dir, other, 'other-client', CLIENT_EXT),
  };
}
