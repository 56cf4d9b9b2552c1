import { Api, encodePath } from './api';
import { ApiError, CliError } from './errors';

/** A credential's metadata as the list and create routes answer it (never a secret). */
export interface CredentialSummary {
  id: string;
  path: string;
  name: string;
  type: string;
  currentVersion: number;
}

/** What the two reveal routes answer. */
export interface Revealed {
  id: string;
  path: string;
  type: string;
  version: number;
  state: string;
  username?: string | null;
  secret: Record<string, unknown>;
}

interface Page {
  items: CredentialSummary[];
  nextCursor: string | null;
}

const PAGE = 200;

/** Every credential the caller may read whose path starts with `prefix` (all pages). */
export async function listCredentials(api: Api, prefix?: string): Promise<CredentialSummary[]> {
  const all: CredentialSummary[] = [];
  let cursor: string | undefined;
  do {
    const page = await api.request<Page>('GET', '/credentials', {
      query: { pathPrefix: prefix || undefined, limit: PAGE, cursor },
    });
    all.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return all;
}

/** The credentials at `prefix` or below it as a folder (`acme/prod` holds `acme/prod/db`). */
export async function credentialsUnder(api: Api, prefix: string): Promise<CredentialSummary[]> {
  const folder = prefix.replace(/\/+$/, '');
  const listed = await listCredentials(api, folder);
  return listed.filter((c) => c.path === folder || c.path.startsWith(`${folder}/`));
}

export async function findByPath(api: Api, path: string): Promise<CredentialSummary | undefined> {
  const listed = await listCredentials(api, path);
  return listed.find((credential) => credential.path === path);
}

export async function requireByPath(api: Api, path: string): Promise<CredentialSummary> {
  const found = await findByPath(api, path);
  if (!found) throw new CliError(`${path}: no such credential (or you may not read it)`);
  return found;
}

export function revealByPath(api: Api, path: string): Promise<Revealed> {
  return api.request<Revealed>('GET', `/secrets/${encodePath(path)}`);
}

export async function revealVersion(
  api: Api,
  path: string,
  options: { version?: number; reason?: string },
): Promise<Revealed> {
  const credential = await requireByPath(api, path);
  return api.request<Revealed>('POST', `/credentials/${credential.id}/reveal`, {
    body: { version: options.version, reason: options.reason },
  });
}

/** Whether a reveal failed because the caller may not reveal (or see) it, not for a fault. */
export function isRefusal(error: unknown): boolean {
  return error instanceof ApiError && (error.status === 403 || error.status === 404);
}
