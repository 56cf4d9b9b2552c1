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

  describe('with the lengths of the stored values', () => {
    // Drawn from the generator's symbols: every character a splitter might cut at.
    const PW = 'p@ss/w0rd?&|#!.:=';
    const at = (text: string) => scanCandidates(text, undefined, [PW.length]).values;

    it.each([
      ['a connection string', `mysql://app:${PW}@db.internal:3306/app`],
      ['a query string', `https://x.example/?token=${PW}&x=1`],
      ['a sentence ending in a period', `the password is ${PW}.`],
      ['a path', `/etc/app/${PW}/config`],
      ['|-separated text', `app|${PW}|prod`],
      ['an assignment', `PASSWORD=${PW}`],
      ['a diff line', `+  url: "postgres://app:${PW}@db/app"`],
      ['the start and end of a run', PW],
    ])('should find a stored value inside %s', (_, text) => {
      expect(at(text)).toContain(PW);
    });

    it('should not find it without its length, where nothing splits it out', () => {
      expect(scanCandidates(`mysql://app:${PW}@db.internal:3306/app`).values).not.toContain(PW);
    });

    it.each([
      ['one character longer, glued to a letter', `mysql://app:X${PW.replace('p@', '@')}@db`],
      ['glued to a digit at the start', `id=9${PW}`],
      ['glued to a letter at the end', `${PW.slice(0, -1)}a${PW.slice(-1)}`],
    ])('should not offer a near-miss: %s', (_, text) => {
      expect(at(text)).not.toContain(PW);
    });

    it('should not take a value glued to letters or digits on both sides as that value', () => {
      const key = 'Zm9vYmFyYmF6cXV4MTIz';
      const values = scanCandidates(`token=abc${key}def`, undefined, [key.length]).values;
      expect(values).not.toContain(key);
      expect(scanCandidates(`token=${key}.`, undefined, [key.length]).values).toContain(key);
    });

    it('should ignore lengths below the minimum and above the maximum', () => {
      expect(scanCandidates('a@bcd@e', undefined, [3, 100_000]).values).toEqual(['a@bcd@e']);
    });

    it('should stop at the candidate cap and say so when windows are many', () => {
      const text = Array.from({ length: 5000 }, (_, i) => i.toString(36)).join('.');
      const found = scanCandidates(
        text,
        { maxCandidates: 50, maxLength: 1000, minLength: 6 },
        [7, 8],
      );
      expect(found.truncated).toBe(true);
      expect(found.values).toHaveLength(50);
    });

    it('should put the split-out candidates before the windows, so the cap cuts windows first', () => {
      const run = Array.from({ length: 5000 }, (_, i) => i.toString(36)).join('.');
      const text = `KEY=${'k'.repeat(20)}\n${run}`;
      const found = scanCandidates(
        text,
        { maxCandidates: 100, maxLength: 1000, minLength: 6 },
        [8],
      );
      expect(found.truncated).toBe(true);
      expect(found.values.slice(0, 3)).toContain('k'.repeat(20));
    });

    // Not a timed assertion (the machines are shared): the cost printed for the record.
    it.each([
      ['a lockfile-like diff', (i: number) => `+  "integrity": "sha512-${'x'.repeat(60)}${i}",`],
      ['a config-like diff', (i: number) => `+url${i} = mysql://u:p@h${i}.example:3306/d?x=1&y=2`],
    ])('should scan 256 KiB of %s with 20 stored lengths within the cap', (name, line) => {
      const lines: string[] = [];
      for (let i = 0, bytes = 0; bytes < 256 * 1024; i++) {
        lines.push(line(i));
        bytes += lines[lines.length - 1].length + 1;
      }
      const lengths = Array.from({ length: 20 }, (_, i) => 8 + i * 3);
      const started = process.hrtime.bigint();

      const found = scanCandidates(lines.join('\n'), undefined, lengths);

      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      process.stdout.write(
        `scanCandidates, 256 KiB of ${name}, 20 lengths: ${found.values.length} candidates, ` +
          `truncated ${found.truncated}, ${ms.toFixed(0)} ms\n`,
      );
      expect(found.values.length).toBeGreaterThan(0);
    });
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
