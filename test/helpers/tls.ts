/** Test certificates made with openssl: a CA and a server certificate it signed, for loopback servers. */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';

export interface TestCa {
  /** The CA certificate (PEM file). */
  caFile: string;
  /** The server's certificate and key (PEM files), valid for 127.0.0.1 and localhost. */
  certFile: string;
  keyFile: string;
}

/** testCa writes ca.pem, server.pem and server.key into `dir` (EC P-256, valid for two days). */
export function testCa(dir: string, names: { ca?: string; server?: string } = {}): TestCa {
  const ossl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  ossl('req', '-x509', ...ec, '-days', '2', '-subj', `/CN=${names.ca ?? 'mirrorauth test CA'}`, '-keyout', 'ca.key', '-out', 'ca.pem');
  ossl('req', ...ec, '-subj', `/CN=${names.server ?? '127.0.0.1'}`, '-keyout', 'server.key', '-out', 'server.csr');
  writeFileSync(`${dir}/san.ext`, 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  ossl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-extfile', 'san.ext', '-out', 'server.pem');
  return { caFile: `${dir}/ca.pem`, certFile: `${dir}/server.pem`, keyFile: `${dir}/server.key` };
}
