import { Api, normalizeAddr, storedTokens, TokenResponse } from '../api';
import { chomp } from '../assignments';
import { ApiError, CliError } from '../errors';
import { note, prompt, promptHidden, readStdin } from '../io';
import { loginFile, readLogin, removeLogin, writeLogin } from '../session-store';

export interface LoginOptions {
  email?: string;
  passwordStdin?: boolean;
  totp?: string;
}

/**
 * `custos login`: e-mail and password (from the terminal without echo, or standard input with
 * --password-stdin), a TOTP code when the account has one; keeps the tokens (not the password)
 * in the user's config directory, mode 0600.
 */
export async function login(addrOption: string | undefined, options: LoginOptions): Promise<void> {
  const addr = normalizeAddr(addrOption || process.env.CUSTOS_ADDR);
  const api = new Api(addr, { kind: 'none' });
  const email = options.email || (await prompt('E-mail: '));
  if (!email) throw new CliError('an e-mail address is needed', 2);
  const password = options.passwordStdin
    ? chomp(await readStdin())
    : await promptHidden('Password: ');
  if (!password) throw new CliError('an empty password', 2);
  let totp = options.totp;
  let tokens: TokenResponse;
  try {
    tokens = await api.anonymous<TokenResponse>('POST', '/auth/login', {
      body: { email, password, totp },
    });
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 401 && /TOTP/i.test(error.serverMessage))) {
      throw simplify(error);
    }
    if (totp) throw simplify(error);
    if (!process.stdin.isTTY || options.passwordStdin) {
      throw new CliError('this account needs a TOTP code: give it with --totp CODE');
    }
    totp = await promptHidden('TOTP code: ');
    tokens = await api
      .anonymous<TokenResponse>('POST', '/auth/login', { body: { email, password, totp } })
      .catch((again: unknown) => {
        throw simplify(again);
      });
  }
  const file = loginFile();
  await writeLogin({ addr, email, ...storedTokens(tokens) }, file);
  note(`logged in to ${addr} as ${email} (session kept in ${file})`);
  if (tokens.mustChangePassword) {
    note('this account must change its password before anything else (POST /auth/password)');
  }
}

/** `custos logout`: ends the stored session on the server (if it can) and removes the file. */
export async function logout(): Promise<void> {
  const file = loginFile();
  const stored = await readLogin(file);
  if (!stored) {
    note('not logged in');
    return;
  }
  try {
    const api = new Api(stored.addr, { kind: 'login', login: stored, file });
    await api.request('POST', '/auth/logout', { body: { refreshToken: stored.refreshToken } });
  } catch (error) {
    note(`the server did not end the session (${(error as Error).message}); removing it here`);
  }
  await removeLogin(file);
  note(`logged out of ${stored.addr}`);
}

function simplify(error: unknown): unknown {
  if (error instanceof ApiError && error.status === 401) {
    return new CliError(`login refused: ${error.serverMessage}`);
  }
  return error;
}
