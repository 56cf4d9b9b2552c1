import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import type { CharacterClass, GeneratorSpec } from './generator-spec';

export const CLASS_ALPHABETS: Readonly<Record<CharacterClass, string>> = {
  lower: 'abcdefghijklmnopqrstuvwxyz',
  upper: 'ABCDEFGHIJKLMNOPQRSTUVWXYZ',
  digits: '0123456789',
  // No quotes, backslash or space: generated passwords end up in shells, URLs and config files.
  symbols: '!#$%&()*+,-./:;<=>?@[]^_{|}~',
};

/** Letters and digits only: API keys are copied into headers and URLs. */
const API_KEY_ALPHABET = CLASS_ALPHABETS.lower + CLASS_ALPHABETS.upper + CLASS_ALPHABETS.digits;

/**
 * A new random value from the CSPRNG. Characters are drawn with `randomInt` (unbiased); a
 * password holds at least one character of every class asked for, placed at random positions.
 */
export function generateSecret(spec: GeneratorSpec): string {
  const prefix = spec.prefix ?? '';
  switch (spec.format) {
    case 'uuid':
      return prefix + randomUUID();
    case 'hex':
      return (
        prefix +
        randomBytes(Math.ceil(spec.length / 2))
          .toString('hex')
          .slice(0, spec.length)
      );
    case 'base64url':
      return (
        prefix +
        randomBytes(Math.ceil((spec.length * 3) / 4))
          .toString('base64url')
          .slice(0, spec.length)
      );
    case 'api_key':
      return prefix + draw(API_KEY_ALPHABET, spec.length);
    case 'password':
      return (
        prefix + password(spec.length, spec.classes ?? ['lower', 'upper', 'digits', 'symbols'])
      );
  }
}

function password(length: number, classes: readonly CharacterClass[]): string {
  const alphabet = classes.map((c) => CLASS_ALPHABETS[c]).join('');
  const chars = [...draw(alphabet, length - classes.length)];
  for (const c of classes) {
    chars.splice(randomInt(chars.length + 1), 0, draw(CLASS_ALPHABETS[c], 1));
  }
  return chars.join('');
}

function draw(alphabet: string, count: number): string {
  let out = '';
  for (let i = 0; i < count; i++) out += alphabet[randomInt(alphabet.length)];
  return out;
}
