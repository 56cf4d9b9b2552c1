import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import type { Principal } from '../../common/auth/principal';
import type { Role } from '../../common/auth/access-vocabulary';
import { AccessGrant, GrantPrincipalType } from './access-grant.entity';
import { CAPABILITIES, Capability } from '../../common/auth/access-vocabulary';
import { Dialect, jsonArrayAgg, SqlFragment } from '../../database/dialect';
import { matchesPath, patternReachesUnder } from './path-pattern';

const ALL: readonly Capability[] = CAPABILITIES;

/** What each role may do on every path, before grants (DESIGN.md, "Roles"). */
const ROLE_CAPABILITIES: Record<Role, readonly Capability[]> = {
  admin: ALL,
  operator: ['read', 'reveal', 'write', 'rotate'],
  auditor: ['read'],
  viewer: ['read'],
};

/**
 * What a role never gets, whatever its grants say: auditors watch, they never see plaintext
 * (DESIGN.md, "Roles"), so a grant cannot give an auditor `reveal`.
 */
const ROLE_NEVER: Partial<Record<Role, readonly Capability[]>> = { auditor: ['reveal'] };

export function roleExclusions(role: Role): Set<Capability> {
  return new Set(Object.hasOwn(ROLE_NEVER, role) ? ROLE_NEVER[role] : []);
}

/** The capabilities a role has on every path; unknown roles have none. */
export function roleCapabilities(role: Role): Set<Capability> {
  return new Set(Object.hasOwn(ROLE_CAPABILITIES, role) ? ROLE_CAPABILITIES[role] : []);
}

/** `read,reveal` → the known capabilities in it; anything unknown is ignored, never widened. */
export function parseCapabilities(stored: string): Set<Capability> {
  const known = new Set<string>(CAPABILITIES);
  return new Set(
    stored
      .split(',')
      .map((part) => part.trim())
      .filter((part): part is Capability => known.has(part)),
  );
}

/** Capabilities in the canonical order of CAPABILITIES, e.g. for storage or a response. */
export function orderedCapabilities(capabilities: Iterable<Capability>): Capability[] {
  const wanted = new Set(capabilities);
  return CAPABILITIES.filter((capability) => wanted.has(capability));
}

export function grantPrincipalOf(principal: Principal): {
  principalType: GrantPrincipalType;
  principalId: string;
} {
  return {
    principalType: principal.type === 'user' ? 'user' : 'service_account',
    principalId: principal.id,
  };
}

type GrantRule = Pick<AccessGrant, 'pathPattern' | 'capabilities'>;

/**
 * One principal's access, loaded once: role defaults (users only) plus grants. Checking many
 * paths against it (a filtered list) costs no further queries.
 */
export class PrincipalAccess {
  private readonly rules: { pathPattern: string; capabilities: Set<Capability> }[];

  constructor(
    private readonly base: ReadonlySet<Capability>,
    grants: readonly GrantRule[],
    private readonly excluded: ReadonlySet<Capability> = new Set(),
  ) {
    this.rules = grants.map((grant) => ({
      pathPattern: grant.pathPattern,
      capabilities: parseCapabilities(grant.capabilities),
    }));
  }

  capabilitiesFor(path: string): Set<Capability> {
    const result = new Set(this.base);
    if (result.size === ALL.length) return result;
    for (const rule of this.rules) {
      if (matchesPath(rule.pathPattern, path)) rule.capabilities.forEach((c) => result.add(c));
    }
    this.excluded.forEach((c) => result.delete(c));
    return result;
  }

  can(capability: Capability, path: string): boolean {
    return this.capabilitiesFor(path).has(capability);
  }

  /**
   * Whether some path inside the folder `prefix` ('' or ending in '/') could give the principal
   * this capability: decided from its role and grants alone, never from what is stored.
   */
  mayUnder(capability: Capability, prefix: string): boolean {
    if (this.excluded.has(capability)) return false;
    if (this.base.has(capability)) return true;
    return this.rules.some(
      (rule) => rule.capabilities.has(capability) && patternReachesUnder(rule.pathPattern, prefix),
    );
  }

  /**
   * Where the principal has a capability, for filtering a list in the database: `all` paths, or
   * the patterns of the grants that give it (none: an empty list).
   */
  scopeOf(capability: Capability): 'all' | string[] {
    if (this.excluded.has(capability)) return [];
    if (this.base.has(capability)) return 'all';
    return this.rules
      .filter((rule) => rule.capabilities.has(capability))
      .map((rule) => rule.pathPattern);
  }
}

/**
 * Decides what a principal may do on a credential path. Users have their role's capabilities on
 * every path, plus those of their grants whose pattern matches; service accounts have only their
 * grants. Callers answer 404, not 403, when `read` is missing (DESIGN.md §4.5).
 *
 * The principal is taken as authenticated and current (the guard checks status and token
 * version); this class only reads grants. Pass the caller's EntityManager to read inside its
 * transaction.
 */
@Injectable()
export class AccessPolicy {
  constructor(private readonly dataSource: DataSource) {}

  async can(
    principal: Principal,
    capability: Capability,
    path: string,
    manager?: EntityManager,
  ): Promise<boolean> {
    if (principal.type === 'user' && roleCapabilities(principal.role).has(capability)) return true;
    return (await this.forPrincipal(principal, manager)).can(capability, path);
  }

  async capabilitiesFor(
    principal: Principal,
    path: string,
    manager?: EntityManager,
  ): Promise<Set<Capability>> {
    return (await this.forPrincipal(principal, manager)).capabilitiesFor(path);
  }

  /**
   * The principal's grants as one column (a scalar subquery), for a statement that loads what they
   * apply to in the same round trip, as the reveal does; null when the role alone allows
   * everything. Read it back with accessFrom().
   */
  grantsColumn(principal: Principal, dialect: Dialect): SqlFragment | null {
    if (principal.type === 'user' && roleCapabilities(principal.role).size === ALL.length) {
      return null;
    }
    const { principalType, principalId } = grantPrincipalOf(principal);
    return {
      sql:
        `(SELECT ${jsonArrayAgg(dialect, ['g.path_pattern', 'g.capabilities'])} ` +
        'FROM access_grants g WHERE g.principal_type = ? AND g.principal_id = ?)',
      parameters: [principalType, principalId],
    };
  }

  /** The access of a principal from the value of its grantsColumn() (null: no grants). */
  accessFrom(principal: Principal, grantsColumn: unknown): PrincipalAccess {
    const base =
      principal.type === 'user' ? roleCapabilities(principal.role) : new Set<Capability>();
    if (base.size === ALL.length) return new PrincipalAccess(base, []);
    const excluded =
      principal.type === 'user' ? roleExclusions(principal.role) : new Set<Capability>();
    return new PrincipalAccess(base, parseGrantsColumn(grantsColumn), excluded);
  }

  /** The principal's access over all paths, for checking many paths with one query. */
  async forPrincipal(principal: Principal, manager?: EntityManager): Promise<PrincipalAccess> {
    const base =
      principal.type === 'user' ? roleCapabilities(principal.role) : new Set<Capability>();
    if (base.size === ALL.length) return new PrincipalAccess(base, []);
    const grants = await (manager ?? this.dataSource).getRepository(AccessGrant).find({
      select: { pathPattern: true, capabilities: true },
      where: grantPrincipalOf(principal),
    });
    const excluded =
      principal.type === 'user' ? roleExclusions(principal.role) : new Set<Capability>();
    return new PrincipalAccess(base, grants, excluded);
  }
}

/**
 * `[[pattern, capabilities], …]`: JSON text from SQLite, already parsed by mysql2 from MariaDB.
 * Anything else in it is skipped, never widened.
 */
function parseGrantsColumn(value: unknown): GrantRule[] {
  const parsed: unknown =
    typeof value === 'string' || Buffer.isBuffer(value) ? JSON.parse(value.toString()) : value;
  if (!Array.isArray(parsed)) return [];
  return parsed
    .filter(
      (row): row is [string, string] =>
        Array.isArray(row) && typeof row[0] === 'string' && typeof row[1] === 'string',
    )
    .map(([pathPattern, capabilities]) => ({ pathPattern, capabilities }));
}
