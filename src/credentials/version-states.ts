import type { CredentialVersion, VersionState } from './entities/credential-version.entity';

type StateFields = Pick<CredentialVersion, 'state' | 'graceUntil'>;

/**
 * The state a version is in at `now`: a `previous` version whose grace period has ended counts
 * as `revoked` even before a job has written that down, so nothing ever relies on the sweep.
 */
export function effectiveState(version: StateFields, now: Date): VersionState {
  if (version.state === 'previous' && (!version.graceUntil || version.graceUntil <= now)) {
    return 'revoked';
  }
  return version.state;
}

/** Only the current version and a previous one within its grace period can be revealed. */
export function isRevealable(version: StateFields, now: Date): boolean {
  const state = effectiveState(version, now);
  return state === 'current' || state === 'previous';
}

/** A version's account in a target system, and whether it has been retired there. */
type RetireFields = Partial<Pick<CredentialVersion, 'account' | 'retiredAt'>>;

/**
 * Versions that pruning may delete: nothing revealable or pending, and nothing whose account in
 * a target system is still to be retired (the row is what tells the retirer to lock it).
 */
export function isPrunable(version: StateFields & RetireFields, now: Date): boolean {
  if (version.account && !version.retiredAt) return false;
  const state = effectiveState(version, now);
  return state === 'revoked' || state === 'destroyed';
}

/**
 * Which versions pruning deletes to keep at most `keep`: the oldest, and only while they are
 * prunable, so the numbers kept stay contiguous. A revealable version below discarded ones (the
 * previous value in its grace, with the attempts of failed rotations above it) stops the pruning
 * there; the next switch, once it is revoked, catches up.
 */
export function versionsToPrune(
  versions: readonly (StateFields & RetireFields & Pick<CredentialVersion, 'version'>)[],
  keep: number,
  now: Date,
): number[] {
  const oldestFirst = [...versions].sort((a, b) => a.version - b.version);
  const doomed: number[] = [];
  for (const version of oldestFirst.slice(0, Math.max(versions.length - keep, 0))) {
    if (!isPrunable(version, now)) break;
    doomed.push(version.version);
  }
  return doomed;
}
