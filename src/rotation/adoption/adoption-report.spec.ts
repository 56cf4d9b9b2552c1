import type { ActorActivity } from '../../audit/audit-activity.query';
import { adoptionOf, fullyAdopted } from './adoption-report';

const FINISHED = new Date('2026-11-30T12:00:00.000Z');
const SINCE = new Date('2026-10-31T12:00:00.000Z');
const ROTATION = { runId: 'run-1', credentialId: 'cred-1', version: 5, finishedAt: FINISHED };
const at = (iso: string) => new Date(`2026-${iso}Z`);

function activity(
  actorType: ActorActivity['actorType'],
  actorId: string,
  lastAt: Date,
  lastVersion: number | null,
  highestVersion: number | null = lastVersion,
): ActorActivity {
  return {
    actorType,
    actorId,
    actorDisplay: `${actorId}-name`,
    lastAt,
    lastVersion,
    highestVersion,
  };
}

describe('adoptionOf', () => {
  it('should count half adopted when one of two services revealed the new version', () => {
    const report = adoptionOf(
      ROTATION,
      SINCE,
      [
        activity('service', 'billing', at('11-30T10:00:00'), 4),
        activity('service', 'reports', at('11-29T10:00:00'), 4),
      ],
      [activity('service', 'billing', at('11-30T12:05:00'), 5)],
    );

    expect(report).toEqual({
      ...ROTATION,
      consumersSince: SINCE,
      consumers: [
        {
          principalType: 'service_account',
          principalId: 'billing',
          name: 'billing-name',
          lastRevealedVersion: 5,
          lastRevealedAt: at('11-30T12:05:00'),
          adopted: true,
        },
        {
          principalType: 'service_account',
          principalId: 'reports',
          name: 'reports-name',
          lastRevealedVersion: 4,
          lastRevealedAt: at('11-29T10:00:00'),
          adopted: false,
        },
      ],
      adopted: 1,
      pending: 1,
      percent: 50,
    });
    expect(fullyAdopted(report)).toBe(false);
  });

  it('should not count a consumer that only revealed the old version again since', () => {
    const report = adoptionOf(
      ROTATION,
      SINCE,
      [activity('user', 'ops', at('11-01T00:00:00'), 4)],
      [activity('user', 'ops', at('11-30T13:00:00'), 4)],
    );

    expect(report.consumers[0]).toMatchObject({
      principalType: 'user',
      lastRevealedVersion: 4,
      lastRevealedAt: at('11-30T13:00:00'),
      adopted: false,
    });
    expect(report.percent).toBe(0);
  });

  it('should count a consumer that revealed the new version, then the old one, as adopted', () => {
    const report = adoptionOf(
      ROTATION,
      SINCE,
      [activity('service', 'billing', at('11-20T00:00:00'), 4)],
      [activity('service', 'billing', at('11-30T14:00:00'), 4, 5)],
    );

    expect(report.consumers[0]).toMatchObject({ lastRevealedVersion: 4, adopted: true });
    expect(fullyAdopted(report)).toBe(true);
  });

  it('should count a later version than the rotation made as adopted', () => {
    const report = adoptionOf(
      ROTATION,
      SINCE,
      [activity('service', 'billing', at('11-20T00:00:00'), 4)],
      [activity('service', 'billing', at('12-02T00:00:00'), 6)],
    );

    expect(report.adopted).toBe(1);
  });

  it('should leave out principals that first revealed after the rotation, and system actors', () => {
    const report = adoptionOf(
      ROTATION,
      SINCE,
      [
        activity('service', 'billing', at('11-20T00:00:00'), 4),
        activity('system', 'custos', at('11-20T00:00:00'), 4),
      ],
      [
        activity('service', 'billing', at('11-30T12:01:00'), 5),
        activity('service', 'newcomer', at('11-30T12:02:00'), 5),
      ],
    );

    expect(report.consumers.map((c) => c.principalId)).toEqual(['billing']);
    expect(report.percent).toBe(100);
  });

  it('should round the percent to one decimal', () => {
    const before = ['a', 'b', 'c'].map((id) => activity('service', id, at('11-20T00:00:00'), 4));

    const report = adoptionOf(ROTATION, SINCE, before, [
      activity('service', 'a', at('11-30T13:00:00'), 5),
    ]);

    expect(report.percent).toBe(33.3);
  });

  it('should know no percent and no full adoption without known consumers', () => {
    const report = adoptionOf(ROTATION, SINCE, [], []);

    expect(report).toMatchObject({ consumers: [], adopted: 0, pending: 0, percent: null });
    expect(fullyAdopted(report)).toBe(false);
  });
});
