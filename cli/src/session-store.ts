import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

/** What `custos login` keeps: the server and the session's tokens (never the password). */
export interface StoredLogin {
  addr: string;
  email: string;
  accessToken: string;
  refreshToken: string;
  /** Epoch milliseconds at which the access token expires. */
  expiresAt: number;
}

/** `$XDG_CONFIG_HOME/custos/credentials.json`, else `~/.config/custos/credentials.json`. */
export function loginFile(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config');
  return join(base, 'custos', 'credentials.json');
}

export async function readLogin(file = loginFile()): Promise<StoredLogin | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const parsed = JSON.parse(text) as Partial<StoredLogin>;
  if (typeof parsed.accessToken !== 'string' || typeof parsed.refreshToken !== 'string') {
    return undefined;
  }
  return parsed as StoredLogin;
}

/** Writes the file with mode 0600 in a directory of mode 0700 (both fixed if they existed). */
export async function writeLogin(login: StoredLogin, file = loginFile()): Promise<void> {
  const dir = dirname(file);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  await writeFile(file, `${JSON.stringify(login, null, 2)}\n`, { mode: 0o600 });
  await chmod(file, 0o600);
}

export async function removeLogin(file = loginFile()): Promise<boolean> {
  try {
    await rm(file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}
