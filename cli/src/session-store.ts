import { chmod, mkdir, open, readFile, rm, stat, writeFile } from 'node:fs/promises';
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

const LOCK_STALE_MS = 15_000;
const LOCK_WAIT_MS = 20_000;

/**
 * Runs `work` holding `<file>.lock` (created exclusively; one left behind by a crashed process
 * counts as stale after 15 s). Refresh tokens are single use and reusing a spent one ends the
 * whole session, so two `custos` processes must not refresh the same login at once: the second
 * waits, then finds the tokens the first stored.
 */
export async function withLoginLock<T>(file: string, work: () => Promise<T>): Promise<T> {
  const lock = `${file}.lock`;
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      const handle = await open(lock, 'wx', 0o600);
      await handle.close();
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const age = await stat(lock).then(
        (info) => Date.now() - info.mtimeMs,
        () => 0,
      );
      if (age > LOCK_STALE_MS) {
        await rm(lock, { force: true });
        continue;
      }
      if (Date.now() > deadline)
        throw new Error(`${lock} is held by another custos process`, { cause: error });
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  try {
    return await work();
  } finally {
    await rm(lock, { force: true });
  }
}
