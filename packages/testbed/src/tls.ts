/**
 * A throwaway certificate authority and a server certificate for loopback, so tests and the
 * quickstart can serve HTTPS (registry discovery and network mirrors insist on it).
 */
// @peculiar/x509 resolves its internals through tsyringe, which needs the Reflect metadata polyfill first.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as never);

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

/** PEM files of a CA and a server certificate signed by it. */
export interface TestCertificates {
  caPem: string;
  certPem: string;
  keyPem: string;
}

function pemOfKey(der: ArrayBuffer): string {
  const b64 = Buffer.from(der)
    .toString('base64')
    .replace(/.{1,64}/g, '$&\n');
  return `-----BEGIN PRIVATE KEY-----\n${b64}-----END PRIVATE KEY-----\n`;
}

/**
 * Makes a CA and a server certificate valid for `hosts` (DNS names and IP addresses; default
 * 127.0.0.1, ::1 and localhost) for `days` days. Go clients ignore the CN, so SANs carry the names.
 * With `clientSubject` (e.g. `CN=alice, O=team`) the certificate is a client certificate of that
 * subject instead (for an API server's `--client-ca-file`: CN the user, O its groups).
 */
export async function createTestCertificates(options: { hosts?: string[]; days?: number; commonName?: string; clientSubject?: string } = {}): Promise<TestCertificates> {
  const hosts = options.hosts ?? ['127.0.0.1', '::1', 'localhost'];
  const notBefore = new Date(Date.now() - 60_000);
  const notAfter = new Date(Date.now() + (options.days ?? 30) * 86_400_000);
  const caKeys = await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify']);
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: `CN=${options.commonName ?? 'OpenDepot local CA'}`,
    notBefore,
    notAfter,
    signingAlgorithm: ALGORITHM,
    keys: caKeys as webcrypto.CryptoKeyPair,
    extensions: [new x509.BasicConstraintsExtension(true, 0, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true)],
  });
  const serverKeys = await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify']);
  const isIp = (h: string) => /^[\d.]+$/.test(h) || h.includes(':');
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: '02',
    subject: options.clientSubject ?? `CN=${hosts.find((h) => !isIp(h)) ?? 'localhost'}`,
    issuer: ca.subject,
    notBefore,
    notAfter,
    signingAlgorithm: ALGORITHM,
    publicKey: (serverKeys as webcrypto.CryptoKeyPair).publicKey,
    signingKey: (caKeys as webcrypto.CryptoKeyPair).privateKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      ...(options.clientSubject
        ? [new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth])]
        : [new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]), new x509.SubjectAlternativeNameExtension(hosts.map((h) => ({ type: isIp(h) ? 'ip' : 'dns', value: h })))]),
    ],
  });
  const keyDer = await webcrypto.subtle.exportKey('pkcs8', (serverKeys as webcrypto.CryptoKeyPair).privateKey);
  return { caPem: `${ca.toString('pem')}\n`, certPem: `${cert.toString('pem')}\n`, keyPem: pemOfKey(keyDer) };
}
