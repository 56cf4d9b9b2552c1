import { KeyObject, X509Certificate } from 'node:crypto';
import { ParsedSecret } from './parsed-secret';
import { PemBlock, readPemBlocks } from './pem-blocks';
import { findPrivateKeyBlock, isEncryptedKeyBlock, loadPrivateKey } from './private-key-pem';
import { optional, readSecret, SecretProblems, text } from './secret-fields';

/**
 * An X.509 certificate in PEM, optionally with its unencrypted `privateKey` (which must match it)
 * and a `chain` of one or more CA certificates. Derived: subject, issuer, subject alternative
 * names, serial number, validity, SHA-256 fingerprint and key type; `expiresAt` is notAfter.
 * Expired certificates are accepted: storing one is not wrong, and its expiry says so.
 */
const RULES = {
  certificate: text({ maxBytes: 64 * 1024 }),
  privateKey: optional(text({ maxBytes: 16 * 1024 })),
  chain: optional(text({ maxBytes: 64 * 1024 })),
};

const CERTIFICATE_LABEL = 'CERTIFICATE';
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
/** How node prints validity dates: `Jan  1 00:00:00 2045 GMT`. */
const NODE_DATE = /^([A-Z][a-z]{2}) {1,2}(\d{1,2}) (\d{2}):(\d{2}):(\d{2}) (\d{4}) GMT$/;

type Fail = (error: string) => undefined;

export function parseCertificateSecret(input: unknown): ParsedSecret {
  const secret = readSecret(input, RULES);
  const problems = new SecretProblems();
  const failOn =
    (field: string): Fail =>
    (error) => {
      problems.add(field, error);
      return undefined;
    };
  const certificate = readCertificate(secret.certificate, failOn('certificate'));
  const key =
    secret.privateKey === undefined
      ? undefined
      : readPrivateKey(secret.privateKey, failOn('privateKey'));
  if (secret.chain !== undefined) readChain(secret.chain, failOn('chain'));
  if (certificate && key && !certificate.checkPrivateKey(key))
    problems.add('privateKey', 'privateKey does not match the certificate');
  const facts = problems.orThrow(
    certificate && describeCertificate(certificate, failOn('certificate')),
  );
  return { value: secret, derived: { ...facts }, expiresAt: new Date(facts.notAfter) };
}

function readCertificate(text: string, fail: Fail): X509Certificate | undefined {
  const pem = readPemBlocks(text);
  if (!pem.ok) return fail(`certificate is not PEM: ${pem.problem}`);
  if (pem.blocks.length !== 1 || pem.blocks[0].label !== CERTIFICATE_LABEL)
    return fail(
      'certificate must hold exactly one CERTIFICATE block (put CA certificates in chain)',
    );
  return parseX509(pem.blocks[0]) ?? fail('certificate is not a valid X.509 certificate');
}

function readChain(text: string, fail: Fail): void {
  const pem = readPemBlocks(text);
  if (!pem.ok) return fail(`chain is not PEM: ${pem.problem}`);
  pem.blocks.forEach((block, index) => {
    if (block.label !== CERTIFICATE_LABEL)
      fail(`chain block ${index + 1} is not a CERTIFICATE block`);
    else if (!parseX509(block))
      fail(`chain certificate ${index + 1} is not a valid X.509 certificate`);
  });
}

function readPrivateKey(text: string, fail: Fail): KeyObject | undefined {
  const pem = readPemBlocks(text);
  if (!pem.ok) return fail(`privateKey is not PEM: ${pem.problem}`);
  const block = findPrivateKeyBlock(pem.blocks);
  if (!block)
    return fail('privateKey must hold exactly one PEM private key block (such as PRIVATE KEY)');
  if (isEncryptedKeyBlock(block))
    return fail('privateKey is encrypted: give the unencrypted key (Custos encrypts it)');
  return loadPrivateKey(block) ?? fail('privateKey is not a valid private key');
}

function parseX509(block: PemBlock): X509Certificate | undefined {
  try {
    return new X509Certificate(block.der);
  } catch {
    return undefined;
  }
}

interface CertificateFacts {
  subject: string;
  issuer: string;
  subjectAltNames: string[];
  serialNumber: string;
  notBefore: string;
  notAfter: string;
  fingerprintSha256: string;
  keyType?: string;
}

function describeCertificate(
  certificate: X509Certificate,
  fail: Fail,
): CertificateFacts | undefined {
  const notBefore = nodeDate(certificate.validFrom);
  const notAfter = nodeDate(certificate.validTo);
  if (!notBefore || !notAfter) return fail('certificate has a validity date Custos cannot read');
  const keyType = publicKeyType(certificate);
  return {
    subject: certificate.subject,
    issuer: certificate.issuer,
    subjectAltNames: splitSubjectAltNames(certificate.subjectAltName),
    serialNumber: certificate.serialNumber,
    notBefore: notBefore.toISOString(),
    notAfter: notAfter.toISOString(),
    fingerprintSha256: certificate.fingerprint256,
    ...(keyType && { keyType }),
  };
}

function publicKeyType(certificate: X509Certificate): string | undefined {
  try {
    return certificate.publicKey.asymmetricKeyType;
  } catch {
    return undefined;
  }
}

function nodeDate(value: string): Date | undefined {
  const match = NODE_DATE.exec(value);
  const month = match ? MONTHS.indexOf(match[1]) : -1;
  if (!match || month === -1) return undefined;
  const [day, hours, minutes, seconds, year] = match.slice(2).map(Number);
  return new Date(Date.UTC(year, month, day, hours, minutes, seconds));
}

/**
 * Node lists names as `DNS:a.example, IP Address:127.0.0.1`, quoting (JSON-style) a name that
 * holds a comma or a quote; the names are returned as node prints them.
 */
export function splitSubjectAltNames(list: string | undefined): string[] {
  if (!list) return [];
  const names: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < list.length; i++) {
    const char = list[i];
    if (quoted && char === '\\') {
      current += char + (list[i + 1] ?? '');
      i++;
    } else if (char === '"') {
      quoted = !quoted;
      current += char;
    } else if (!quoted && char === ',' && list[i + 1] === ' ') {
      names.push(current);
      current = '';
      i++;
    } else current += char;
  }
  names.push(current);
  return names;
}
