import { createInterface } from 'node:readline/promises';
import { CliError } from './errors';

/** A line of output: what the user asked for (a path list, a value they asked `get` for). */
export function out(text: string): void {
  process.stdout.write(`${text}\n`);
}

/** A note on stderr, `custos: …`; never a secret. */
export function note(text: string): void {
  process.stderr.write(`custos: ${text}\n`);
}

export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Asks on the terminal (prompt on stderr, so stdout stays clean). */
export async function prompt(question: string): Promise<string> {
  if (!process.stdin.isTTY) throw new CliError(`no terminal to ask "${question.trim()}"`);
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return (await rl.question(question)).trim();
  } finally {
    rl.close();
  }
}

/** Asks on the terminal without echoing what is typed (a password, a code). */
export function promptHidden(question: string): Promise<string> {
  const stdin = process.stdin;
  if (!stdin.isTTY) throw new CliError(`no terminal to ask "${question.trim()}"`);
  process.stderr.write(question);
  stdin.setRawMode(true);
  stdin.setEncoding('utf8');
  stdin.resume();
  return new Promise((resolve, reject) => {
    let value = '';
    const finish = () => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') {
          finish();
          resolve(value);
          return;
        }
        if (ch === '\u0003' || ch === '\u0004') {
          finish();
          reject(new CliError('cancelled', 130));
          return;
        }
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else value += ch;
      }
    };
    stdin.on('data', onData);
  });
}

/** `value` as one word for a POSIX shell (or a dotenv file): quoted only when it must be. */
export function shellQuote(value: string): string {
  if (/^[A-Za-z0-9_.,:/@%+=-]+$/.test(value)) return value;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}
