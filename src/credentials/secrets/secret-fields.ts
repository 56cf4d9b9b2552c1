import { FieldError } from '../../common/errors/error-body';
import { SecretShapeError, secretField } from './secret-shape.error';

/**
 * Reading the fields of a secret object. Values come back exactly as given (a secret is never
 * trimmed or re-cased), every problem is collected before anything is thrown, and no message
 * quotes a value: a failure must not reveal any part of a secret.
 */

/** Reports a problem with a field (or with item `index` of an array field). */
export type Fail = (error: string, index?: number) => void;

/** How one field is read: `check` returns the value, or undefined after calling `fail`. */
export interface FieldRule<T, Optional extends boolean = boolean> {
  readonly optional: Optional;
  check(value: unknown, name: string, fail: Fail): T | undefined;
}

export type SecretRules = Record<string, FieldRule<unknown>>;

type RuleValue<R> = R extends FieldRule<infer T> ? T : never;

/** The object `readSecret` returns: required fields always present, optional ones when given. */
export type SecretFields<R extends SecretRules> = {
  [K in keyof R as R[K] extends FieldRule<unknown, false> ? K : never]: RuleValue<R[K]>;
} & {
  [K in keyof R as R[K] extends FieldRule<unknown, false> ? never : K]?: RuleValue<R[K]>;
};

export interface TextLimit {
  /** The most characters (Unicode code points, so an emoji counts once). */
  maxChars?: number;
  /** The most bytes in UTF-8, for text blobs such as PEM; a multiple of 1024. */
  maxBytes?: number;
}

const SURROGATE_PAIR = /[\uD800-\uDBFF][\uDC00-\uDFFF]/g;
/** With the `u` flag a class of surrogates matches only unpaired ones. */
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/** A non-empty string within `limit`, kept exactly as given. */
export function text(limit: TextLimit): FieldRule<string, false> {
  return {
    optional: false,
    check(value, name, fail) {
      const problem = textProblem(value, name, limit);
      if (problem === undefined) return value as string;
      fail(problem);
      return undefined;
    },
  };
}

/** The same rule, but the field may be left out (or be null, which counts as left out). */
export function optional<T>(rule: FieldRule<T, false>): FieldRule<T, true> {
  return { optional: true, check: (value, name, fail) => rule.check(value, name, fail) };
}

export function textProblem(value: unknown, name: string, limit: TextLimit): string | undefined {
  if (typeof value !== 'string') return `${name} must be a string`;
  if (value === '') return `${name} must not be empty`;
  if (
    limit.maxChars !== undefined &&
    value.length > limit.maxChars &&
    characterCount(value) > limit.maxChars
  )
    return `${name} must be at most ${limit.maxChars} characters`;
  if (limit.maxBytes !== undefined && Buffer.byteLength(value, 'utf8') > limit.maxBytes)
    return `${name} must be at most ${limit.maxBytes / 1024} KiB`;
  if (LONE_SURROGATE.test(value))
    return `${name} must be well-formed Unicode (it holds an unpaired surrogate)`;
  return undefined;
}

function characterCount(value: string): number {
  return value.length - (value.match(SURROGATE_PAIR)?.length ?? 0);
}

/**
 * Reads a secret object by its rules. Throws a SecretShapeError listing every problem when the
 * input is not a plain object, holds a field the rules do not name, or breaks a rule. The result
 * holds the rules' fields in their order; optional fields that were absent or null are left out.
 */
export function readSecret<R extends SecretRules>(input: unknown, rules: R): SecretFields<R> {
  if (!isPlainObject(input)) throw SecretShapeError.single('', 'the secret must be a JSON object');
  const problems = new SecretProblems();
  const allowed = Object.keys(rules);
  const unknownCount = Object.keys(input).filter((key) => !allowed.includes(key)).length;
  if (unknownCount > 0) {
    // The unknown names are not repeated: a secret pasted as a key must not be echoed either.
    problems.add(
      '',
      `the secret has ${unknownCount} unknown field${unknownCount === 1 ? '' : 's'}; the allowed fields are ${allowed.join(', ')}`,
    );
  }
  const fields: Record<string, unknown> = {};
  for (const [name, rule] of Object.entries(rules)) {
    const value = Object.hasOwn(input, name) ? input[name] : undefined;
    if (value === undefined || value === null) {
      if (!rule.optional) problems.add(name, `${name} is required`);
      continue;
    }
    const checked = rule.check(value, name, (error, index) =>
      problems.add(index === undefined ? name : `${name}.${index}`, error),
    );
    if (checked !== undefined) fields[name] = checked;
  }
  problems.throwIfAny();
  return fields as SecretFields<R>;
}

/** Problems found while checking a secret, grouped by field, in the order found. */
export class SecretProblems {
  private readonly byField = new Map<string, string[]>();

  /** `field` without the `secret.` prefix; '' for the secret as a whole. */
  add(field: string, error: string): void {
    const key = secretField(field);
    const errors = this.byField.get(key);
    if (errors) errors.push(error);
    else this.byField.set(key, [error]);
  }

  get isEmpty(): boolean {
    return this.byField.size === 0;
  }

  /** Throws when a problem was found; otherwise returns `value`, which every check left defined. */
  orThrow<T>(value: T | undefined): T {
    this.throwIfAny();
    if (value === undefined) throw new Error('a secret check failed without reporting a problem');
    return value;
  }

  throwIfAny(): void {
    if (this.isEmpty) return;
    const problems: FieldError[] = [...this.byField].map(([field, errors]) => ({ field, errors }));
    throw new SecretShapeError(problems);
  }
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const prototype = Object.getPrototypeOf(value) as unknown;
  return prototype === Object.prototype || prototype === null;
}
