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

/** Versions that pruning may delete: nothing revealable or pending. */
export function isPrunable(version: StateFields, now: Date): boolean {
  const state = effectiveState(version, now);
  return state === 'revoked' || state === 'destroyed';
}
