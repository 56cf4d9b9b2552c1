import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import {
  EC_CERTIFICATE,
  EC_PRIVATE_KEY,
  EC_PRIVATE_KEY_LEGACY_ENCRYPTED,
  EXPIRED_CERTIFICATE,
  INTERMEDIATE_CA_CERTIFICATE,
  LEAF_CERTIFICATE,
  LEAF_PRIVATE_KEY,
  ROOT_CA_CERTIFICATE,
  RSA_CERTIFICATE,
  RSA_PRIVATE_KEY,
  RSA_PRIVATE_KEY_ENCRYPTED,
} from './__fixtures__/certificate-fixtures';
import { problemsOf } from './__fixtures__/problems-of';
import { parseCertificateSecret, splitSubjectAltNames } from './certificate-secret';

const DAY_MS = 24 * 60 * 60 * 1000;

/** The validity of a fixture as node reads it, independently of the parser under test. */
function validityOf(pem: string): { notBefore: string; notAfter: string } {
  const certificate = new X509Certificate(pem);
  return {
    notBefore: new Date(certificate.validFrom).toISOString(),
    notAfter: new Date(certificate.validTo).toISOString(),
  };
}

describe('parseCertificateSecret', () => {
  it('should accept an RSA certificate with its key and derive its facts', () => {
    const input = { certificate: RSA_CERTIFICATE, privateKey: RSA_PRIVATE_KEY };
    const { notBefore, notAfter } = validityOf(RSA_CERTIFICATE);
    expect(parseCertificateSecret(input)).toEqual({
      value: input,
      derived: {
        subject: 'O=Custos Test\nCN=vault.example.test',
        issuer: 'O=Custos Test\nCN=vault.example.test',
        subjectAltNames: [
          'DNS:vault.example.test',
          'DNS:*.vault.example.test',
          'IP Address:127.0.0.1',
        ],
        serialNumber: new X509Certificate(RSA_CERTIFICATE).serialNumber,
        notBefore,
        notAfter,
        fingerprintSha256: new X509Certificate(RSA_CERTIFICATE).fingerprint256,
        keyType: 'rsa',
      },
      expiresAt: new Date(notAfter),
    });
    expect(Date.parse(notAfter) - Date.parse(notBefore)).toBe(7300 * DAY_MS);
  });

  it('should accept an EC certificate alone, with no alternative names', () => {
    const sut = parseCertificateSecret({ certificate: EC_CERTIFICATE });
    expect(sut.value).toEqual({ certificate: EC_CERTIFICATE });
    expect(sut.derived).toMatchObject({
      subject: 'CN=ec.example.test',
      subjectAltNames: [],
      keyType: 'ec',
    });
  });

  it('should accept an EC certificate with its PKCS#8 key', () => {
    expect(() =>
      parseCertificateSecret({ certificate: EC_CERTIFICATE, privateKey: EC_PRIVATE_KEY }),
    ).not.toThrow();
  });

  it('should accept a leaf certificate with its key and a chain of intermediate and root', () => {
    const input = {
      certificate: LEAF_CERTIFICATE,
      privateKey: LEAF_PRIVATE_KEY,
      chain: INTERMEDIATE_CA_CERTIFICATE + ROOT_CA_CERTIFICATE,
    };
    const sut = parseCertificateSecret(input);
    expect(sut.value).toEqual(input);
    expect(sut.derived).toMatchObject({
      subject: 'CN=leaf.example.test',
      issuer: 'CN=Custos Test Intermediate CA',
      subjectAltNames: ['DNS:leaf.example.test'],
      serialNumber: '2002',
    });
  });

  it('should accept an expired certificate, whose expiry says so', () => {
    const sut = parseCertificateSecret({ certificate: EXPIRED_CERTIFICATE });
    expect(sut.derived).toMatchObject({
      serialNumber: '3003',
      notBefore: '2020-01-01T00:00:00.000Z',
      notAfter: '2021-01-01T00:00:00.000Z',
    });
    expect(sut.expiresAt).toEqual(new Date('2021-01-01T00:00:00.000Z'));
  });

  it('should never put the private key in what it derives', () => {
    const sut = parseCertificateSecret({
      certificate: RSA_CERTIFICATE,
      privateKey: RSA_PRIVATE_KEY,
    });
    const body = RSA_PRIVATE_KEY.split('\n')[1];
    expect(JSON.stringify(sut.derived)).not.toContain(body);
    expect(Object.keys(sut.value)).toEqual(['certificate', 'privateKey']);
  });

  describe('refusals', () => {
    it('should refuse a key that does not match the certificate', () => {
      const otherRsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({
        type: 'pkcs8',
        format: 'pem',
      }) as string;
      for (const privateKey of [otherRsa, EC_PRIVATE_KEY]) {
        expect(
          problemsOf(() => parseCertificateSecret({ certificate: RSA_CERTIFICATE, privateKey })),
        ).toEqual([
          { field: 'secret.privateKey', errors: ['privateKey does not match the certificate'] },
        ]);
      }
    });

    it.each([
      ['an encrypted PKCS#8 key', RSA_PRIVATE_KEY_ENCRYPTED, RSA_CERTIFICATE],
      ['a legacy encrypted key', EC_PRIVATE_KEY_LEGACY_ENCRYPTED, EC_CERTIFICATE],
    ])('should refuse %s, asking for the unencrypted key', (_label, privateKey, certificate) => {
      expect(problemsOf(() => parseCertificateSecret({ certificate, privateKey }))).toEqual([
        {
          field: 'secret.privateKey',
          errors: ['privateKey is encrypted: give the unencrypted key (Custos encrypts it)'],
        },
      ]);
    });

    it.each([
      [
        'text that is not PEM',
        'not a certificate',
        'certificate is not PEM: it does not start with a PEM BEGIN line',
      ],
      [
        'a PEM certificate whose content is not a certificate',
        '-----BEGIN CERTIFICATE-----\nAAAAAAAA\n-----END CERTIFICATE-----',
        'certificate is not a valid X.509 certificate',
      ],
      [
        'two certificates',
        LEAF_CERTIFICATE + INTERMEDIATE_CA_CERTIFICATE,
        'certificate must hold exactly one CERTIFICATE block (put CA certificates in chain)',
      ],
      [
        'a private key',
        RSA_PRIVATE_KEY,
        'certificate must hold exactly one CERTIFICATE block (put CA certificates in chain)',
      ],
    ])('should refuse %s as the certificate', (_label, certificate, error) => {
      expect(problemsOf(() => parseCertificateSecret({ certificate }))).toEqual([
        { field: 'secret.certificate', errors: [error] },
      ]);
    });

    it('should refuse a private key that is not a PEM private key', () => {
      expect(
        problemsOf(() =>
          parseCertificateSecret({ certificate: EC_CERTIFICATE, privateKey: EC_CERTIFICATE }),
        ),
      ).toEqual([
        {
          field: 'secret.privateKey',
          errors: ['privateKey must hold exactly one PEM private key block (such as PRIVATE KEY)'],
        },
      ]);
    });

    it('should name each bad certificate of the chain, along with other problems', () => {
      const chain = [
        INTERMEDIATE_CA_CERTIFICATE,
        '-----BEGIN CERTIFICATE-----\nAAAAAAAA\n-----END CERTIFICATE-----\n',
        RSA_PRIVATE_KEY,
      ].join('');
      const privateKey = '-----BEGIN PRIVATE KEY-----\nAAAAAAAA\n-----END PRIVATE KEY-----';
      expect(
        problemsOf(() =>
          parseCertificateSecret({ certificate: LEAF_CERTIFICATE, privateKey, chain }),
        ),
      ).toEqual([
        { field: 'secret.privateKey', errors: ['privateKey is not a valid private key'] },
        {
          field: 'secret.chain',
          errors: [
            'chain certificate 2 is not a valid X.509 certificate',
            'chain block 3 is not a CERTIFICATE block',
          ],
        },
      ]);
    });

    it('should refuse a certificate over 64 KiB', () => {
      const certificate = EC_CERTIFICATE + '\n'.repeat(64 * 1024);
      expect(problemsOf(() => parseCertificateSecret({ certificate }))).toEqual([
        { field: 'secret.certificate', errors: ['certificate must be at most 64 KiB'] },
      ]);
    });
  });
});

describe('splitSubjectAltNames', () => {
  it('should split the names node lists, keeping a quoted name whole', () => {
    expect(splitSubjectAltNames('DNS:a.example, DNS:"b, c.example", URI:"x\\"y, z"')).toEqual([
      'DNS:a.example',
      'DNS:"b, c.example"',
      'URI:"x\\"y, z"',
    ]);
  });

  it('should return no names when there are none', () => {
    expect(splitSubjectAltNames(undefined)).toEqual([]);
  });
});
