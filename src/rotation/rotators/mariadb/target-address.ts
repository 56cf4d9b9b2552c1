/**
 * The address the rotator connects to for a policy's `host`: the single place where outbound
 * connections of the mariadb rotator are to be checked by the outbound address guard (DESIGN.md
 * invariant 8: loopback, private, link-local and metadata addresses refused unless allowed by
 * configuration). That guard is built in `src/outbound/` on another branch; until it is merged,
 * the host is connected to as the policy names it.
 */
export function resolveTarget(host: string): Promise<string> {
  return Promise.resolve(host);
}
