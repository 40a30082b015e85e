// A throwaway certificate authority and a server certificate it signed, for 127.0.0.1 and
// localhost, made with Debian's openssl in a temp dir: for the HTTPS/HTTP/2 tests (the
// server, HAProxy's TLS frontend, Node clients that trust `ca`, and Chromium, which is told
// to accept exactly this key through its SPKI hash).
import { execFileSync } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCertificate {
  /** PEM of the CA that signed `cert` (what a client trusts). */
  ca: string;
  /** PEM of the server certificate (SAN IP:127.0.0.1 and DNS:localhost). */
  cert: string;
  /** PEM of its private key. */
  key: string;
  /** Certificate then key in one PEM file, as HAProxy's `crt` takes them. */
  pemPath: string;
  certPath: string;
  keyPath: string;
  /** base64 SHA-256 of the certificate's SubjectPublicKeyInfo: Chromium's --ignore-certificate-errors-spki-list. */
  spkiSha256: string;
  /** Removes the files. */
  remove(): void;
}

function openssl(args: string[], cwd: string): void {
  try {
    execFileSync('openssl', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString() ?? '';
    throw new Error(`openssl ${args[0]} failed (install openssl): ${(error as Error).message}\n${stderr}`);
  }
}

export function makeTestCertificate(): TestCertificate {
  const dir = mkdtempSync(join(tmpdir(), 'abrcast-tls-'));
  try {
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
    openssl(['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=abrcast test CA',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], dir);
    openssl(['req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost'], dir);
    writeFileSync(join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n');
    openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2',
      '-extfile', 'server.ext', '-out', 'server.pem'], dir);
    const read = (name: string) => readFileSync(join(dir, name), 'utf8');
    const [ca, cert, key] = [read('ca.pem'), read('server.pem'), read('server.key')];
    const pemPath = join(dir, 'haproxy.pem');
    writeFileSync(pemPath, cert + key);
    const spki = new X509Certificate(cert).publicKey.export({ type: 'spki', format: 'der' });
    return {
      ca, cert, key, pemPath,
      certPath: join(dir, 'server.pem'),
      keyPath: join(dir, 'server.key'),
      spkiSha256: createHash('sha256').update(spki).digest('base64'),
      remove: () => rmSync(dir, { recursive: true, force: true }),
    };
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}
