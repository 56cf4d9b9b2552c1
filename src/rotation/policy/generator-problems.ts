import type { GeneratorSpec } from '../generator/generator-spec';

/**
 * What keeps a generator spec from making a value with every class it asks for: classes exist
 * only for passwords (the other formats have fixed alphabets: a hex key cannot hold symbols), and
 * each class needs one character of the random part.
 */
export function generatorClassesProblem(
  spec: Partial<Pick<GeneratorSpec, 'format' | 'length' | 'classes'>> | undefined,
): string | undefined {
  const classes = spec?.classes;
  if (!Array.isArray(classes) || classes.length === 0) return undefined;
  if (spec?.format !== 'password') {
    return `apply to the password format only (${String(spec?.format)} has a fixed alphabet)`;
  }
  if (typeof spec.length === 'number' && spec.length < classes.length) {
    return `need one character each: a length of ${spec.length} cannot hold ${classes.length} classes`;
  }
  return undefined;
}
