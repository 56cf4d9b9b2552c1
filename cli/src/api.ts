import { ApiError, CliError } from './errors';
import { loginFile, readLogin, StoredLogin, withLoginLock, writeLogin } from './session-store';

export const DEFAULT_ADDR = 'http://127.0.0.1:3000';
const API = '/api/v1';
/** Refresh a stored access token this long before it expires. */
const REFRESH_MARGIN_MS = 30_000;

export type Auth =
  | { kind: 'apiKey'; apiKey: string }
  | { kind: 'token'; token: string }
  | { kind: 'login'; login: StoredLogin; file: string }
  | { kind: 'none'; loggedInTo?: string };

export interface TokenResponse {
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
  mustChangePassword?: boolean;
}

export interface RequestOptions {
  body?: unknown;
  headers?: Record<string, string>;
  query?: Record<string, string | number | undefined>;
}

/**
 * The REST API of one Custos server. Credentials come, first found, from `CUSTOS_API_KEY`
 * (sent as X-API-Key), `CUSTOS_TOKEN` (Bearer) or the login stored by `custos login`
 * (refreshed when its access token is about to expire, or was refused).
 */
export class Api {
  constructor(
    readonly addr: string,
    private auth: Auth,
  ) {}

  static async fromEnvironment(
    addrOption: string | undefined,
    env: NodeJS.ProcessEnv = process.env,
  ): Promise<Api> {
    const explicit = addrOption || env.CUSTOS_ADDR;
    if (env.CUSTOS_API_KEY) {
      return new Api(normalizeAddr(explicit), { kind: 'apiKey', apiKey: env.CUSTOS_API_KEY });
    }
    if (env.CUSTOS_TOKEN) {
      return new Api(normalizeAddr(explicit), { kind: 'token', token: env.CUSTOS_TOKEN });
    }
    const file = loginFile(env);
    const login = await readLogin(file);
    if (login && (!explicit || normalizeAddr(explicit) === login.addr)) {
      return new Api(login.addr, { kind: 'login', login, file });
    }
    return new Api(normalizeAddr(explicit), { kind: 'none', loggedInTo: login?.addr });
  }

  url(route: string, query: RequestOptions['query'] = {}): string {
    const url = new URL(`${this.addr}${API}${route}`);
    for (const [name, value] of Object.entries(query)) {
      if (value !== undefined) url.searchParams.set(name, String(value));
    }
    return url.toString();
  }

  /** The headers that authenticate a request (refreshing a stored login first if due). */
  async authHeaders(): Promise<Record<string, string>> {
    switch (this.auth.kind) {
      case 'apiKey':
        return { 'x-api-key': this.auth.apiKey };
      case 'token':
        return { authorization: `Bearer ${this.auth.token}` };
      case 'login':
        if (this.auth.login.expiresAt - REFRESH_MARGIN_MS <= Date.now()) await this.refresh();
        return { authorization: `Bearer ${this.auth.login.accessToken}` };
      case 'none':
        throw new CliError(
          `not logged in${this.auth.loggedInTo ? ` to ${this.addr} (the stored login is for ${this.auth.loggedInTo})` : ''}: ` +
            'run `custos login`, or set CUSTOS_TOKEN or CUSTOS_API_KEY',
        );
    }
  }

  async request<T>(method: string, route: string, options: RequestOptions = {}): Promise<T> {
    let response = await this.send(method, route, options, await this.authHeaders());
    if (response.status === 401 && this.auth.kind === 'login') {
      await response.body?.cancel();
      await this.refresh();
      response = await this.send(method, route, options, await this.authHeaders());
    }
    return readAnswer<T>(response, method, route);
  }

  /** A request without credentials (login). */
  async anonymous<T>(method: string, route: string, options: RequestOptions = {}): Promise<T> {
    return readAnswer<T>(await this.send(method, route, options, {}), method, route);
  }

  /** The raw response of an authenticated GET (the event stream); the caller reads it. */
  async open(route: string, options: RequestOptions, signal: AbortSignal): Promise<Response> {
    let response = await this.send('GET', route, options, await this.authHeaders(), signal);
    if (response.status === 401 && this.auth.kind === 'login') {
      await response.body?.cancel();
      await this.refresh();
      response = await this.send('GET', route, options, await this.authHeaders(), signal);
    }
    if (!response.ok) await readAnswer(response, 'GET', route);
    return response;
  }

  /**
   * Trades the stored refresh token for new tokens, under the login file's lock; when another
   * process refreshed meanwhile, takes the tokens it stored instead (a refresh token is single
   * use: spending it twice would end the session).
   */
  private async refresh(): Promise<void> {
    if (this.auth.kind !== 'login') return;
    const auth = this.auth;
    await withLoginLock(auth.file, async () => {
      const stored = await readLogin(auth.file);
      if (stored && stored.refreshToken !== auth.login.refreshToken) {
        auth.login = stored;
        if (stored.expiresAt - REFRESH_MARGIN_MS > Date.now()) return;
      }
      let tokens: TokenResponse;
      try {
        tokens = await this.anonymous<TokenResponse>('POST', '/auth/refresh', {
          body: { refreshToken: auth.login.refreshToken },
        });
      } catch (error) {
        if (error instanceof ApiError && (error.status === 401 || error.status === 400)) {
          throw new CliError('the stored login has expired: run `custos login` again');
        }
        throw error;
      }
      auth.login = { ...auth.login, ...storedTokens(tokens) };
      await writeLogin(auth.login, auth.file);
    });
  }

  private async send(
    method: string,
    route: string,
    options: RequestOptions,
    auth: Record<string, string>,
    signal?: AbortSignal,
  ): Promise<Response> {
    const headers: Record<string, string> = { ...auth, ...options.headers };
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    try {
      return await fetch(this.url(route, options.query), {
        method,
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        signal,
      });
    } catch (error) {
      if ((error as Error).name === 'AbortError') throw error;
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      throw new CliError(
        `cannot reach ${this.addr}: ${cause?.code ?? cause?.message ?? (error as Error).message}`,
      );
    }
  }
}

export function storedTokens(
  tokens: TokenResponse,
): Pick<StoredLogin, 'accessToken' | 'refreshToken' | 'expiresAt'> {
  return {
    accessToken: tokens.accessToken,
    refreshToken: tokens.refreshToken,
    expiresAt: Date.now() + tokens.expiresIn * 1000,
  };
}

export function normalizeAddr(addr: string | undefined): string {
  const value = (addr || DEFAULT_ADDR).replace(/\/+$/, '');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new CliError(`"${value}" is not a server address (CUSTOS_ADDR, e.g. ${DEFAULT_ADDR})`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new CliError(`"${value}" is not an http(s) address`);
  }
  return value;
}

/** `a/b c/d` → `a/b%20c/d`: each segment encoded, the slashes kept. */
export function encodePath(path: string): string {
  return path
    .split('/')
    .map((segment) => encodeURIComponent(segment))
    .join('/');
}

async function readAnswer<T>(response: Response, method: string, route: string): Promise<T> {
  const text = await response.text();
  if (!response.ok) {
    throw new ApiError(response.status, serverMessage(text, response.statusText), method, route);
  }
  return (text ? JSON.parse(text) : undefined) as T;
}

function serverMessage(text: string, fallback: string): string {
  try {
    const body = JSON.parse(text) as { message?: unknown };
    if (Array.isArray(body.message)) return body.message.join('; ');
    if (typeof body.message === 'string') return body.message;
  } catch {
    // not JSON: the status text says enough
  }
  return fallback;
}
