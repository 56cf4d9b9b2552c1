/**
 * PEM text (RFC 7468): `-----BEGIN LABEL-----`, base64 lines, `-----END LABEL-----`. Reading is
 * strict so that node's more lenient parsers only ever see what we checked: the text must be PEM
 * blocks and whitespace only, every block closed by its own label, every body well-formed base64.
 * Legacy RFC 1421 headers (`Proc-Type: 4,ENCRYPTED`) are kept. Problems never quote the text.
 */
export interface PemBlock {
  label: string;
  /** RFC 1421 headers, such as the `Proc-Type` and `DEK-Info` of a legacy encrypted key. */
  headers: Map<string, string>;
  der: Buffer;
}

export type PemReading = { ok: true; blocks: PemBlock[] } | { ok: false; problem: string };

const BEGIN = /^-----BEGIN ([A-Z0-9]+(?: [A-Z0-9]+)*)-----$/;
const HEADER = /^([A-Za-z0-9-]+):[ \t]*(.*)$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const LINE_WIDTH = 64;

/** Reads text that holds only PEM blocks and whitespace; the problem never quotes the text. */
export function readPemBlocks(text: string): PemReading {
  const lines = text.split(/\r?\n/).map((line) => line.trim());
  const blocks: PemBlock[] = [];
  let i = 0;
  while (i < lines.length) {
    if (lines[i] === '') {
      i++;
      continue;
    }
    const begin = BEGIN.exec(lines[i]);
    if (!begin)
      return fail(
        blocks.length === 0
          ? 'it does not start with a PEM BEGIN line'
          : 'it holds text outside its PEM blocks',
      );
    const label = begin[1];
    i++;
    const headers = new Map<string, string>();
    if (i < lines.length && lines[i].includes(':')) {
      for (; i < lines.length && lines[i] !== ''; i++) {
        const header = HEADER.exec(lines[i]);
        if (!header) return fail('a PEM block has a malformed header line');
        headers.set(header[1], header[2]);
      }
      i++;
    }
    const body: string[] = [];
    let ended = false;
    for (; i < lines.length; i++) {
      if (lines[i].startsWith('-----')) {
        if (lines[i] !== `-----END ${label}-----`)
          return fail('a PEM block does not end with the END line of its label');
        ended = true;
        i++;
        break;
      }
      body.push(lines[i]);
    }
    if (!ended) return fail('a PEM block has no END line');
    const base64 = body.join('');
    if (base64.length % 4 !== 0 || !BASE64.test(base64))
      return fail('a PEM block does not hold well-formed base64');
    blocks.push({ label, headers, der: Buffer.from(base64, 'base64') });
  }
  if (blocks.length === 0) return fail('it holds no PEM block');
  return { ok: true, blocks };
}

/** The block as canonical PEM text (64-column base64), headers included. */
export function toPem(block: PemBlock): string {
  const headers = [...block.headers].map(([name, value]) => `${name}: ${value}\n`).join('');
  const base64 = block.der.toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < base64.length; i += LINE_WIDTH) lines.push(base64.slice(i, i + LINE_WIDTH));
  return [
    `-----BEGIN ${block.label}-----\n`,
    headers ? `${headers}\n` : '',
    `${lines.join('\n')}\n`,
    `-----END ${block.label}-----\n`,
  ].join('');
}

function fail(problem: string): PemReading {
  return { ok: false, problem };
}
