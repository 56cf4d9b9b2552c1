import { EntityManager } from 'typeorm';
import { ROLES, Role } from '../../common/auth/access-vocabulary';
import type { Principal } from '../../common/auth/principal';
import { AccessPolicy, roleCapabilities } from '../../auth/grants/access-policy';
import { placeholders } from '../../database/dialect';
import type { CredentialRevealAccess } from './blast-radius.types';

/** A credential whose readers are asked for. */
export interface CredentialPath {
  id: string;
  path: string;
}

interface UserRow {
  id: string;
  email: string;
  role: Role;
}

interface AccountRow {
  id: string;
  name: string;
}

interface GrantRow {
  principalType: 'user' | 'service_account';
  principalId: string;
  pathPattern: string;
  capabilities: string;
}

/**
 * Who may reveal each credential now: active users whose role reveals everywhere, and active
 * users and service accounts with a grant that covers the path. Whether a grant covers a path,
 * and what a role takes away (an auditor never reveals), is decided by AccessPolicy, the same
 * code that decides the reveal itself.
 */
export class RevealAccessQuery {
  constructor(
    private readonly manager: EntityManager,
    private readonly policy: AccessPolicy,
  ) {}

  async forCredentials(
    credentials: CredentialPath[],
  ): Promise<Map<string, CredentialRevealAccess[]>> {
    const result = new Map(credentials.map((c) => [c.id, [] as CredentialRevealAccess[]]));
    if (credentials.length === 0) return result;
    const revealingRoles = ROLES.filter((role) => roleCapabilities(role).has('reveal'));
    const byRole = await this.manager.query<UserRow[]>(
      `SELECT id, email, role FROM users WHERE status = 'active' AND role IN (${placeholders(revealingRoles)}) ORDER BY email`,
      revealingRoles,
    );
    for (const user of byRole) {
      for (const list of result.values()) {
        list.push({
          principal: { type: 'user', id: user.id, display: user.email },
          via: { role: user.role },
        });
      }
    }
    const roleUsers = new Set(byRole.map((u) => u.id));
    // Only grants that can give `reveal`; which of them cover which path is the policy's call.
    const grants = (
      await this.manager.query<GrantRow[]>(
        'SELECT principal_type AS principalType, principal_id AS principalId, ' +
          'path_pattern AS pathPattern, capabilities FROM access_grants ' +
          "WHERE capabilities LIKE '%reveal%' ORDER BY path_pattern",
        [],
      )
    ).filter((g) => !(g.principalType === 'user' && roleUsers.has(g.principalId)));
    for (const { principal, display, rules } of await this.grantHolders(grants)) {
      for (const credential of credentials) {
        const covering = rules
          .filter((rule) =>
            this.policy.accessFrom(principal, [rule]).can('reveal', credential.path),
          )
          .map(([pattern]) => pattern);
        if (covering.length === 0) continue;
        result.get(credential.id)?.push({
          principal: {
            type: principal.type === 'user' ? 'user' : 'service_account',
            id: principal.id,
            display,
          },
          via: { grants: covering },
        });
      }
    }
    return result;
  }

  /** The active principals holding the grants, each with its grants as the policy reads them. */
  private async grantHolders(
    grants: GrantRow[],
  ): Promise<{ principal: Principal; display: string; rules: [string, string][] }[]> {
    const userIds = [
      ...new Set(grants.filter((g) => g.principalType === 'user').map((g) => g.principalId)),
    ];
    const accountIds = [
      ...new Set(
        grants.filter((g) => g.principalType === 'service_account').map((g) => g.principalId),
      ),
    ];
    const users = userIds.length
      ? await this.manager.query<UserRow[]>(
          `SELECT id, email, role FROM users WHERE status = 'active' AND id IN (${placeholders(userIds)})`,
          userIds,
        )
      : [];
    const accounts = accountIds.length
      ? await this.manager.query<AccountRow[]>(
          `SELECT id, name FROM service_accounts WHERE status = 'active' AND id IN (${placeholders(accountIds)})`,
          accountIds,
        )
      : [];
    const rulesOf = (type: GrantRow['principalType'], id: string): [string, string][] =>
      grants
        .filter((g) => g.principalType === type && g.principalId === id)
        .map((g) => [g.pathPattern, g.capabilities]);
    return [
      ...users.map((u) => ({
        principal: {
          type: 'user' as const,
          id: u.id,
          email: u.email,
          role: u.role,
          mustChangePassword: false,
          mfaEnabled: false,
        },
        display: u.email,
        rules: rulesOf('user', u.id),
      })),
      ...accounts.map((a) => ({
        principal: { type: 'service' as const, id: a.id, name: a.name },
        display: a.name,
        rules: rulesOf('service_account', a.id),
      })),
    ];
  }
}
