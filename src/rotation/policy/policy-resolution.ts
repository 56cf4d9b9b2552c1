import { matchesPath } from '../../auth/grants/path-pattern';
import { durationSecondsFrom } from '../../common/duration';
import type { CredentialType } from '../../common/credential-types';
import type { RotationDefaults } from '../../config/rotation-defaults';
import type { RotationPolicy } from '../entities/rotation-policy.entity';
import type { GeneratorSpec } from '../generator/generator-spec';
import type { EffectivePolicy } from './effective-policy';

type PatternRow = Pick<RotationPolicy, 'id' | 'pathPattern'>;

/** The part of a pattern before its first wildcard: `acme/prod/*` → `acme/prod/`. */
export function literalPrefix(pattern: string): string {
  const star = pattern.indexOf('*');
  return star === -1 ? pattern : pattern.slice(0, star);
}

/**
 * The path-pattern policy that governs a path: of those whose pattern matches it (the grants'
 * matching), the one with the longest literal prefix; on a tie, the smallest id, so every
 * instance picks the same one.
 */
export function mostSpecificPattern<T extends PatternRow>(
  policies: readonly T[],
  path: string,
): T | undefined {
  let best: T | undefined;
  for (const policy of policies) {
    if (!policy.pathPattern || !matchesPath(policy.pathPattern, path)) continue;
    if (!best || moreSpecific(policy, best)) best = policy;
  }
  return best;
}

function moreSpecific(a: PatternRow, b: PatternRow): boolean {
  const lengthA = literalPrefix(a.pathPattern!).length;
  const lengthB = literalPrefix(b.pathPattern!).length;
  return lengthA !== lengthB ? lengthA > lengthB : a.id < b.id;
}

/**
 * A stored policy as it applies to a credential of `type`: interval (unless a schedule is set)
 * and grace from the type's defaults where the policy gives none, and the grace in seconds.
 */
export function toEffective(
  policy: RotationPolicy,
  type: CredentialType,
  defaults: RotationDefaults,
): EffectivePolicy {
  const typeDefaults = defaults[type];
  const gracePeriod = policy.gracePeriod ?? typeDefaults.gracePeriod;
  return {
    policyId: policy.id,
    source: policy.credentialId ? 'credential' : 'pattern',
    pathPattern: policy.pathPattern,
    enabled: policy.enabled,
    rotateEvery: policy.schedule ? null : (policy.rotateEvery ?? typeDefaults.interval),
    schedule: policy.schedule,
    window: policy.window,
    offset: policy.offset,
    gracePeriod,
    graceSeconds: durationSecondsFrom(new Date(), gracePeriod),
    rotator: policy.rotator,
    generator: policy.generator as GeneratorSpec | null,
    endGraceOnFullAdoption: policy.endGraceOnFullAdoption,
  };
}
