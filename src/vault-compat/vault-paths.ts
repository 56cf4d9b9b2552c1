import type { VaultMount } from '../config/vault-compat.config';

/**
 * Where a Vault KV v2 path lands among credential paths. Pure: the mounts come from
 * VAULT_COMPAT_MOUNTS, the paths from the URL (Fastify has already decoded `%2F`).
 */

/** The mount named in a URL, or undefined (Vault: no handler for the route). */
export function findMount(mounts: readonly VaultMount[], name: string): VaultMount | undefined {
  return mounts.find((mount) => mount.name === name);
}

/** `acme/prod/db` under mount `kv=teams/` is `teams/acme/prod/db`; slashes around it are dropped. */
export function credentialPathOf(mount: VaultMount, rest: string): string {
  return mount.prefix + trimSlashes(rest);
}

/**
 * The folder a LIST names, as a credential path prefix: '' (the mount's root) or a prefix ending
 * in '/'. `rest` is what follows `metadata/`, with or without its trailing slash.
 */
export function listPrefixOf(mount: VaultMount, rest: string): string {
  const folder = trimSlashes(rest);
  return mount.prefix + (folder === '' ? '' : `${folder}/`);
}

/**
 * Vault's LIST answer for `prefix`: the immediate children of the folder, each once, sorted;
 * a child that has children of its own ends in '/' (a name can be both a secret and a folder,
 * as in Vault: then both `x` and `x/` are listed).
 */
export function listChildren(prefix: string, paths: readonly string[]): string[] {
  const keys = new Set<string>();
  for (const path of paths) {
    if (!path.startsWith(prefix) || path.length === prefix.length) continue;
    const rest = path.slice(prefix.length);
    const slash = rest.indexOf('/');
    keys.add(slash < 0 ? rest : rest.slice(0, slash + 1));
  }
  return [...keys].sort();
}

/** The name of a credential created by a KV write: the last segment of its path. */
export function nameOfPath(path: string): string {
  const segments = path.split('/');
  return segments[segments.length - 1];
}

function trimSlashes(value: string): string {
  return value.replace(/^\/+|\/+$/g, '');
}
