import { generateKeyPairSync } from 'node:crypto';
import { scanCandidates } from './scan-candidates';

const KEY = 'sk_live_4eC39HqLyjWDarjtT1zdp7dc';

describe('scanCandidates', () => {
  it('should find a secret inside a larger text, whatever surrounds it', () => {
    const texts = [
      `export STRIPE_KEY=${KEY}`,
      `const key = "${KEY}";`,
      `  api_key: '${KEY}',`,
      `curl -H "Authorization: Bearer ${KEY}" https://api.example`,
      `{"key":"${KEY}"}`,
      `+STRIPE_KEY=${KEY}`,
      `see (${KEY}) for details`,
    ];
    for (const text of texts) expect(scanCandidates(text).values).toContain(KEY);
  });

  it('should find a passphrase with spaces inside quotes or after an assignment', () => {
    expect(scanCandidates('PASSWORD="correct horse battery"').values).toContain(
      'correct horse battery',
    );
    expect(scanCandidates('password: correct horse battery').values).toContain(
      'correct horse battery',
    );
  });

  it('should keep a connection string whole', () => {
    const url = 'postgres://app:s3cr3t-pw@db.internal:5432/app?sslmode=require';
    expect(scanCandidates(`DATABASE_URL=${url}`).values).toContain(url);
  });

  it('should not offer near-misses: a secret one character shorter or longer is a different candidate', () => {
    const values = scanCandidates(`token=${KEY.slice(0, -1)} other=${KEY}X`).values;
    expect(values).not.toContain(KEY);
  });

  it('should find a PEM private key block, also out of a diff, with and without its final newline', () => {
    const pem = generateKeyPairSync('ed25519').privateKey.export({
      type: 'pkcs8',
      format: 'pem',
    }) as string;
    const diff = [
      '+++ b/deploy/key.pem',
      ...pem
        .trimEnd()
        .split('\n')
        .map((l) => `+${l}`),
    ].join('\n');
    const values = scanCandidates(diff).values;
    expect(values).toContain(pem);
    expect(values).toContain(pem.trimEnd());
  });

  it('should skip strings shorter than the minimum', () => {
    expect(scanCandidates('a=abc').values).toEqual([]);
  });

  it('should stop at the candidate cap and say so', () => {
    const text = Array.from({ length: 500 }, (_, i) => `token${i}=value-${i}-xxxxxxxx`).join('\n');
    const found = scanCandidates(text, { maxCandidates: 100, maxLength: 1000, minLength: 6 });
    expect(found.values).toHaveLength(100);
    expect(found.truncated).toBe(true);
  });

  it('should bound the pieces of a run with many delimiters', () => {
    const run = Array.from({ length: 2000 }, (_, i) => `p${i}xxxx`).join(':');
    const found = scanCandidates(run);
    expect(found.values.length).toBeLessThan(1000);
    expect(found.values).toContain(run);
  });

  it.each([
    ['unclosed PEM BEGIN lines', '-----BEGIN PRIVATE KEY-----\n'],
    ['PEM END lines', '-----END PRIVATE KEY-----\n'],
    ['assignments', 'a=b:c=d:e,f;g="h" '],
    ['quotes', '"\'`'],
  ])('should scan 256 KiB of %s in bounded time', (_, unit) => {
    const text = unit.repeat(Math.ceil((256 * 1024) / unit.length));
    const started = process.hrtime.bigint();

    scanCandidates(text);

    expect(Number(process.hrtime.bigint() - started) / 1e6).toBeLessThan(2000);
  });
});
