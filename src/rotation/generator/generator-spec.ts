/** How a `generated` rotation makes a new value. */
export const GENERATOR_FORMATS = ['password', 'api_key', 'hex', 'base64url', 'uuid'] as const;
export type GeneratorFormat = (typeof GENERATOR_FORMATS)[number];

export const CHARACTER_CLASSES = ['lower', 'upper', 'digits', 'symbols'] as const;
export type CharacterClass = (typeof CHARACTER_CLASSES)[number];

export interface GeneratorSpec {
  format: GeneratorFormat;
  /** Characters of the random part (bytes for hex and base64url are derived from it). */
  length: number;
  /** For `password`: classes to draw from, each appearing at least once. */
  classes?: CharacterClass[];
  /** Put in front of the random part, e.g. `ck_live_` for API keys. */
  prefix?: string;
}
