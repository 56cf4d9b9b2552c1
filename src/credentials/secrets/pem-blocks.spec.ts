import {
  EC_CERTIFICATE,
  EC_PRIVATE_KEY_LEGACY_ENCRYPTED,
} from './__fixtures__/certificate-fixtures';
import { readPemBlocks, toPem } from './pem-blocks';

const BLOCK = '-----BEGIN THING-----\nAAECAw==\n-----END THING-----';

function blocksOf(text: string) {
  const reading = readPemBlocks(text);
  if (!reading.ok) throw new Error(`unexpected problem: ${reading.problem}`);
  return reading.blocks;
}

function problemOf(text: string): string {
  const reading = readPemBlocks(text);
  if (reading.ok) throw new Error('expected a problem');
  return reading.problem;
}

describe('readPemBlocks', () => {
  it('should read each block with its label and content', () => {
    const blocks = blocksOf(
      `${BLOCK}\n\n-----BEGIN OTHER THING-----\nBA==\n-----END OTHER THING-----\n`,
    );
    expect(blocks.map((block) => [block.label, [...block.der]])).toEqual([
      ['THING', [0, 1, 2, 3]],
      ['OTHER THING', [4]],
    ]);
  });

  it('should accept CRLF line ends, indentation and surrounding blank lines', () => {
    const text = `\r\n  -----BEGIN THING-----\r\n  AAEC\r\n  Aw==\r\n  -----END THING-----\r\n\r\n`;
    expect([...blocksOf(text)[0].der]).toEqual([0, 1, 2, 3]);
  });

  it('should keep the headers of a legacy encrypted key', () => {
    const [block] = blocksOf(EC_PRIVATE_KEY_LEGACY_ENCRYPTED);
    expect(block.label).toBe('EC PRIVATE KEY');
    expect(block.headers.get('Proc-Type')).toBe('4,ENCRYPTED');
    expect(block.headers.get('DEK-Info')).toMatch(/^AES-256-CBC,/);
  });

  it.each([
    ['text before the first block', `hello\n${BLOCK}`, 'it does not start with a PEM BEGIN line'],
    ['text after a block', `${BLOCK}\nhello`, 'it holds text outside its PEM blocks'],
    [
      'a block without its END line',
      '-----BEGIN THING-----\nAAECAw==\n',
      'a PEM block has no END line',
    ],
    [
      'an END line of another label',
      '-----BEGIN THING-----\nAAECAw==\n-----END OTHER-----',
      'a PEM block does not end with the END line of its label',
    ],
    [
      'a body that is not base64',
      '-----BEGIN THING-----\nAA*CAw==\n-----END THING-----',
      'a PEM block does not hold well-formed base64',
    ],
    [
      'a body of a wrong length',
      '-----BEGIN THING-----\nAAECA\n-----END THING-----',
      'a PEM block does not hold well-formed base64',
    ],
    [
      'an empty body',
      '-----BEGIN THING-----\n-----END THING-----',
      'a PEM block does not hold well-formed base64',
    ],
    ['blank text', ' \n\n ', 'it holds no PEM block'],
  ])('should refuse %s', (_label, text, problem) => {
    expect(problemOf(text)).toBe(problem);
  });
});

describe('toPem', () => {
  it('should write a block back as canonical PEM that reads the same', () => {
    const [block] = blocksOf(EC_CERTIFICATE);
    expect(toPem(block)).toBe(EC_CERTIFICATE);
  });

  it('should write headers before a blank line', () => {
    const [block] = blocksOf(EC_PRIVATE_KEY_LEGACY_ENCRYPTED);
    expect(toPem(block)).toBe(EC_PRIVATE_KEY_LEGACY_ENCRYPTED);
  });
});
