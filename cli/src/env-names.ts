import { CliError } from './errors';

/**
 * How `custos run`, `watch` and `get --format env` name environment variables.
 *
 * - The base name is the credential path's last segment, upper-cased, every character other
 *   than A-Z and 0-9 turned into `_` (`acme/prod/db-password` → `DB_PASSWORD`); a name that
 *   would start with a digit gets a leading `_`.
 * - A secret with one field (`{password}`, `{apiKey}`, `{token}`…) is that one variable.
 * - A secret with several fields gives one variable per field, `NAME_FIELD`, the field name
 *   split at its camelCase humps (`acme/prod/stripe` `{clientId, clientSecret}` →
 *   `STRIPE_CLIENT_ID`, `STRIPE_CLIENT_SECRET`).
 * - `--prefix P` puts P before every name made this way (not before overrides).
 * - `--env NAME=path[#field]` names one value explicitly; that value then gets no default name.
 * - Two values wanting one name is an error, resolved only by naming them with `--env`.
 * - A default name that changes how programs start or find code (PATH, LD_PRELOAD,
 *   NODE_OPTIONS, …; see PROTECTED) is an error: whoever may write a credential under the prefix
 *   must not steer the child that way. `--env` may still name one of them on purpose.
 */

/** Variables a credential's default name may not set (LD_* and DYLD_* too). */
export const PROTECTED = new Set([
  'PATH',
  'HOME',
  'SHELL',
  'IFS',
  'ENV',
  'BASH_ENV',
  'CDPATH',
  'NODE_OPTIONS',
  'NODE_PATH',
  'PYTHONPATH',
  'PYTHONSTARTUP',
  'PYTHONHOME',
  'PERL5LIB',
  'PERL5OPT',
  'PERLLIB',
  'RUBYOPT',
  'RUBYLIB',
  'JAVA_TOOL_OPTIONS',
  '_JAVA_OPTIONS',
  'JDK_JAVA_OPTIONS',
  'CUSTOS_ADDR',
  'CUSTOS_TOKEN',
  'CUSTOS_API_KEY',
]);

export function isProtected(name: string): boolean {
  return PROTECTED.has(name) || name.startsWith('LD_') || name.startsWith('DYLD_');
}

/** A revealed secret: its path and its fields (values never leave the caller). */
export interface RevealedSecret {
  path: string;
  secret: Record<string, unknown>;
}

export interface EnvOverride {
  name: string;
  path: string;
  field?: string;
}

/** One variable: where its value comes from, and the value. */
export interface EnvAssignment {
  name: string;
  path: string;
  field: string;
  value: string;
}

const VARIABLE = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function envNameOf(segment: string): string {
  const name = segment.toUpperCase().replace(/[^A-Z0-9]/g, '_');
  return /^[0-9]/.test(name) ? `_${name}` : name;
}

export function fieldNameOf(field: string): string {
  return envNameOf(field.replace(/([a-z0-9])([A-Z])/g, '$1_$2'));
}

export function lastSegment(path: string): string {
  const parts = path.split('/').filter((part) => part !== '');
  return parts[parts.length - 1] ?? path;
}

/** The fields of a secret that carry a value, in the order the server gave them. */
export function secretFields(secret: Record<string, unknown>): string[] {
  return Object.keys(secret).filter((key) => secret[key] !== null && secret[key] !== undefined);
}

export function fieldValue(secret: Record<string, unknown>, field: string): string {
  const value = secret[field];
  if (typeof value === 'string') return value;
  return JSON.stringify(value);
}

/** `NAME=path` or `NAME=path#field`, as `--env` takes it. */
export function parseEnvOverride(text: string): EnvOverride {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new CliError(`--env expects NAME=path[#field], got "${text}"`, 2);
  const name = text.slice(0, eq);
  const target = text.slice(eq + 1);
  if (!VARIABLE.test(name)) {
    throw new CliError(`--env: "${name}" is not a valid environment variable name`, 2);
  }
  const hash = target.indexOf('#');
  const path = hash === -1 ? target : target.slice(0, hash);
  const field = hash === -1 ? undefined : target.slice(hash + 1);
  if (!path) throw new CliError(`--env ${name}: no credential path`, 2);
  if (field === '') throw new CliError(`--env ${name}: empty field after #`, 2);
  return field === undefined ? { name, path } : { name, path, field };
}

/**
 * The variables for these secrets: defaults by the rule above, overrides applied, collisions
 * refused (naming the paths, never a value).
 */
export function mapToEnv(
  secrets: RevealedSecret[],
  overrides: EnvOverride[] = [],
  prefix = '',
): EnvAssignment[] {
  if (prefix && !VARIABLE.test(prefix)) {
    throw new CliError(`--prefix: "${prefix}" cannot start an environment variable name`, 2);
  }
  const byPath = new Map(secrets.map((secret) => [secret.path, secret]));
  const taken = new Set<string>();
  const assignments: EnvAssignment[] = [];
  const claim = (assignment: EnvAssignment) => {
    const clash = assignments.find((other) => other.name === assignment.name);
    if (clash) {
      throw new CliError(
        `${assignment.name} would hold both ${describe(clash)} and ${describe(assignment)}; ` +
          'name them apart with --env NAME=path#field',
      );
    }
    assignments.push(assignment);
  };

  for (const override of overrides) {
    const secret = byPath.get(override.path);
    if (!secret) throw new CliError(`--env ${override.name}: ${override.path} was not revealed`);
    const fields = secretFields(secret.secret);
    let field = override.field;
    if (field === undefined) {
      if (fields.length !== 1) {
        throw new CliError(
          `--env ${override.name}: ${override.path} has the fields ${fields.join(', ')}; ` +
            'name one as path#field',
        );
      }
      field = fields[0];
    } else if (!fields.includes(field)) {
      throw new CliError(`--env ${override.name}: ${override.path} has no field "${field}"`);
    }
    taken.add(key(override.path, field));
    claim({
      name: override.name,
      path: override.path,
      field,
      value: fieldValue(secret.secret, field),
    });
  }

  for (const secret of secrets) {
    const base = prefix + envNameOf(lastSegment(secret.path));
    const fields = secretFields(secret.secret);
    for (const field of fields) {
      if (taken.has(key(secret.path, field))) continue;
      const name = fields.length === 1 ? base : `${base}_${fieldNameOf(field)}`;
      if (isProtected(name)) {
        throw new CliError(
          `${secret.path} would set ${name}, which changes how programs start; ` +
            'name it with --env NAME=path#field (or use --prefix)',
        );
      }
      claim({ name, path: secret.path, field, value: fieldValue(secret.secret, field) });
    }
  }
  return assignments;
}

function key(path: string, field: string): string {
  return `${path}#${field}`;
}

function describe(assignment: EnvAssignment): string {
  return `${assignment.path}#${assignment.field}`;
}
