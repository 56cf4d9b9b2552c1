import type { VersionState } from './entities/credential-version.entity';
import { effectiveState, isPrunable, isRevealable, versionsToPrune } from './version-states';

const now = new Date('2026-11-24T12:00:00Z');
const later = new Date('2026-11-24T13:00:00Z');
const earlier = new Date('2026-11-24T11:00:00Z');

function version(state: VersionState, graceUntil: Date | null = null) {
  return { state, graceUntil };
}

describe('version states', () => {
  it('should keep a previous version revealable until its grace period ends', () => {
    expect(effectiveState(version('previous', later), now)).toBe('previous');
    expect(isRevealable(version('previous', later), now)).toBe(true);
  });

  it('should treat a previous version as revoked once its grace period has ended', () => {
    expect(effectiveState(version('previous', earlier), now)).toBe('revoked');
    expect(effectiveState(version('previous', now), now)).toBe('revoked');
    expect(isRevealable(version('previous', earlier), now)).toBe(false);
  });

  it('should treat a previous version without a grace period as revoked', () => {
    expect(effectiveState(version('previous', null), now)).toBe('revoked');
  });

  it.each<[VersionState, boolean]>([
    ['current', true],
    ['pending', false],
    ['revoked', false],
    ['destroyed', false],
  ])('should reveal a %s version: %s', (state, expected) => {
    expect(isRevealable(version(state, later), now)).toBe(expected);
  });

  it.each<[VersionState, Date | null, boolean]>([
    ['current', null, false],
    ['pending', null, false],
    ['previous', later, false],
    ['previous', earlier, true],
    ['revoked', null, true],
    ['destroyed', null, true],
  ])('should prune a %s version (grace until %s): %s', (state, grace, expected) => {
    expect(isPrunable(version(state, grace), now)).toBe(expected);
  });

  describe('pruning', () => {
    const numbered = (states: [number, VersionState, Date?][]) =>
      states.map(([n, state, grace]) => ({ version: n, state, graceUntil: grace ?? null }));

    it('should delete the oldest versions beyond the number to keep', () => {
      const versions = numbered([
        [1, 'revoked'],
        [2, 'destroyed'],
        [3, 'revoked'],
        [4, 'previous', later],
        [5, 'current'],
      ]);
      expect(versionsToPrune(versions, 3, now)).toEqual([1, 2]);
      expect(versionsToPrune(versions, 5, now)).toEqual([]);
    });

    it('should never leave a gap: a previous version in its grace below discarded attempts stops it', () => {
      // A failed rotation (versions 2 to 4 discarded), then one that succeeded.
      const versions = numbered([
        [1, 'previous', later],
        [2, 'destroyed'],
        [3, 'destroyed'],
        [4, 'destroyed'],
        [5, 'current'],
      ]);
      expect(versionsToPrune(versions, 3, now)).toEqual([]);
      // Once its grace has ended, the next switch deletes it and the attempts above it.
      const ended = [{ ...versions[0], graceUntil: earlier }, ...versions.slice(1)];
      expect(versionsToPrune(ended, 3, now)).toEqual([1, 2]);
    });

    it('should keep a version whose account is still to be retired, and those above it', () => {
      const versions = numbered([
        [1, 'revoked'],
        [2, 'revoked'],
        [3, 'revoked'],
        [4, 'current'],
      ]).map((v) => ({ ...v, account: `user_${v.version % 2}`, retiredAt: now }));
      const unretired = versions.map((v) => (v.version === 2 ? { ...v, retiredAt: null } : v));
      expect(versionsToPrune(unretired, 1, now)).toEqual([1]);
      // Retired at last: the next switch catches up.
      expect(versionsToPrune(versions, 1, now)).toEqual([1, 2, 3]);
    });

    it('should take the versions in any order', () => {
      const versions = numbered([
        [3, 'current'],
        [1, 'revoked'],
        [2, 'previous', later],
      ]);
      expect(versionsToPrune(versions, 2, now)).toEqual([1]);
    });
  });
});
