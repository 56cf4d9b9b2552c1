import { ZxcvbnFactory } from '@zxcvbn-ts/core';
import * as common from '@zxcvbn-ts/language-common';
import * as english from '@zxcvbn-ts/language-en';
import { DomainError } from '../../common/errors/domain-error';

export const MIN_PASSWORD_LENGTH = 12;
export const MAX_PASSWORD_LENGTH = 256;
const MIN_SCORE = 3;

const zxcvbn = new ZxcvbnFactory({
  dictionary: { ...common.dictionary, ...english.dictionary },
  graphs: common.adjacencyGraphs,
  translations: english.translations,
});

export class WeakPasswordError extends DomainError {
  readonly kind = 'invalid';
}

/**
 * At least 12 characters and a zxcvbn score of 3 or more (hard to guess), judged also against
 * the user's own e-mail so "alice@example.com2024!" does not pass.
 */
export function assertStrongPassword(password: string, context: string[] = []): void {
  // Characters as people count them (code points), not UTF-16 units: an emoji is one.
  const length = [...password].length;
  if (length < MIN_PASSWORD_LENGTH) {
    throw new WeakPasswordError(`Password must be at least ${MIN_PASSWORD_LENGTH} characters`);
  }
  if (length > MAX_PASSWORD_LENGTH) {
    throw new WeakPasswordError(`Password must be at most ${MAX_PASSWORD_LENGTH} characters`);
  }
  // The part before the @ too: "alice.smith1987!" is weak for alice.smith@example.com.
  const personal = context.flatMap((item) => [item, ...item.split('@', 1)]);
  const result = zxcvbn.check(password, personal);
  if (result.score < MIN_SCORE) {
    const hint =
      result.feedback.warning || result.feedback.suggestions[0] || 'it is too easy to guess';
    throw new WeakPasswordError(`Password is too weak: ${hint}`);
  }
}
