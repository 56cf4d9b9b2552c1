/**
 * The canary as it would appear in text, in hex, or inside base64 or base64url at any of the
 * three byte alignments (the stable middle of the encoding of `canary` after 0, 1 or 2 bytes).
 */
export function encodedForms(canary: string): string[] {
  const bytes = Buffer.from(canary, 'utf8');
  const forms = [canary, bytes.toString('hex'), bytes.toString('hex').toUpperCase()];
  for (let offset = 0; offset < 3; offset++) {
    const shifted = Buffer.concat([Buffer.alloc(offset), bytes]);
    for (const encoding of ['base64', 'base64url'] as const) {
      forms.push(shifted.toString(encoding).slice(4, -4));
    }
  }
  return forms;
}
