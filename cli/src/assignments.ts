import { CliError } from './errors';

/**
 * `custos put` field arguments: `field=@file` (the file's contents), `field=-` (standard
 * input, once) or, only with --allow-argv-secrets, `field=value` (argv shows in `ps` and in
 * shell history). One trailing newline of a file or of standard input is dropped, so that
 * `echo "$PW" > file` stores `$PW`.
 */
export interface FieldSource {
  field: string;
  kind: 'file' | 'stdin' | 'argv';
  /** The file name for `file`, the value for `argv`. */
  arg: string;
}

export interface FieldReaders {
  readFile(path: string): Promise<string>;
  readStdin(): Promise<string>;
}

const FIELD = /^[A-Za-z][A-Za-z0-9_]*$/;

export function parseAssignment(text: string, allowArgv: boolean): FieldSource {
  const eq = text.indexOf('=');
  // The argument itself is never echoed: it may be a value typed in the wrong place.
  if (eq <= 0) throw new CliError('expected field=@file, field=- or field=value', 2);
  const field = text.slice(0, eq);
  const rest = text.slice(eq + 1);
  if (!FIELD.test(field)) throw new CliError(`"${field}" is not a field name`, 2);
  if (rest === '-') return { field, kind: 'stdin', arg: '' };
  if (rest.startsWith('@') && rest.length > 1) return { field, kind: 'file', arg: rest.slice(1) };
  if (!allowArgv) {
    throw new CliError(
      `refusing to take ${field} from the command line, where ps and shell history show it: ` +
        `use ${field}=@file or ${field}=- (standard input), or --allow-argv-secrets`,
      2,
    );
  }
  return { field, kind: 'argv', arg: rest };
}

export function parseAssignments(texts: string[], allowArgv: boolean): FieldSource[] {
  const sources = texts.map((text) => parseAssignment(text, allowArgv));
  const seen = new Set<string>();
  for (const source of sources) {
    if (seen.has(source.field)) throw new CliError(`${source.field} is given twice`, 2);
    seen.add(source.field);
  }
  if (sources.filter((source) => source.kind === 'stdin').length > 1) {
    throw new CliError('only one field can read standard input (field=-)', 2);
  }
  if (sources.length === 0) throw new CliError('nothing to store: give at least one field=…', 2);
  return sources;
}

export async function resolveAssignments(
  sources: FieldSource[],
  readers: FieldReaders,
): Promise<Record<string, string>> {
  const secret: Record<string, string> = {};
  for (const source of sources) {
    if (source.kind === 'argv') secret[source.field] = source.arg;
    else if (source.kind === 'stdin') secret[source.field] = chomp(await readers.readStdin());
    else {
      try {
        secret[source.field] = chomp(await readers.readFile(source.arg));
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
        throw new CliError(`cannot read ${source.arg} for ${source.field}: ${code}`);
      }
    }
  }
  return secret;
}

export function chomp(text: string): string {
  if (text.endsWith('\r\n')) return text.slice(0, -2);
  if (text.endsWith('\n')) return text.slice(0, -1);
  return text;
}
