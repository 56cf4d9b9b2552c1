/**
 * Whether a host name is on the allowlist: an entry is a host (`hooks.example.com`, matched
 * exactly) or `*.` and a domain (`*.example.com`, any name below it at any depth, not the domain
 * itself). An empty list allows every host. IP literals match only an identical entry, and the
 * address checks apply to every host whatever the list says.
 */
export function hostAllowed(host: string, allowlist: readonly string[]): boolean {
  if (allowlist.length === 0) return true;
  const name = host.toLowerCase().replace(/\.$/, '');
  return allowlist.some((entry) =>
    entry.startsWith('*.')
      ? name.endsWith(entry.slice(1)) && name.length > entry.length - 1
      : name === entry,
  );
}
