import { auditTamperFinding } from './audit-tamper.rules';
import { bruteForceFindings, LoginFailure } from './brute-force.rules';
import { massRevealFindings, RevealEvent } from './mass-reveal.rules';
import { rotationFailureFindings, RotationFailure } from './rotation-failure.rules';
import { latestBurst } from './sliding-window';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const at = (seconds: number) => new Date(T0 + seconds * 1000);

function failure(seq: number, seconds: number, over: Partial<LoginFailure> = {}): LoginFailure {
  return {
    seq: String(seq),
    at: at(seconds),
    ip: '203.0.113.7',
    userId: 'u1',
    email: null,
    ...over,
  };
}

describe('latestBurst', () => {
  const events = [0, 10, 20, 100, 101, 102].map((s, i) => ({ seq: String(i + 1), at: at(s) }));

  it('should find the latest window that reaches the threshold', () => {
    const burst = latestBurst(events, { threshold: 3, windowMs: 30_000 });
    expect(burst?.events.map((e) => e.seq)).toEqual(['4', '5', '6']);
  });

  it('should not count events exactly one window apart as one burst', () => {
    expect(latestBurst(events.slice(0, 3), { threshold: 3, windowMs: 20_000 })).toBeNull();
    expect(latestBurst(events.slice(0, 3), { threshold: 3, windowMs: 20_001 })?.count).toBe(3);
  });

  it('should ignore windows ending at events a past pass has seen', () => {
    expect(latestBurst(events, { threshold: 3, windowMs: 30_000, afterSeq: '6' })).toBeNull();
    expect(latestBurst(events, { threshold: 3, windowMs: 30_000, afterSeq: '3' })?.count).toBe(3);
  });

  it('should count distinct values when asked', () => {
    const same = events.map((e) => ({ ...e, key: 'a' }));
    expect(latestBurst(same, { threshold: 2, windowMs: 1e9, distinct: (e) => e.key })).toBeNull();
  });
});

describe('bruteForceFindings', () => {
  const rule = { perAccountThreshold: 3, perIpThreshold: 4, windowSeconds: 60 };

  it('should report an account guessed at too often, keyed by the account', () => {
    const failures = [failure(1, 0), failure(2, 10, { ip: '198.51.100.1' }), failure(3, 20)];
    const [finding, ...others] = bruteForceFindings(failures, rule, '0');
    expect(others).toEqual([]);
    expect(finding).toMatchObject({
      type: 'brute_force',
      dedupeKey: 'brute_force:account:user:u1',
      principals: [{ type: 'user', id: 'u1' }],
      facts: { subject: 'account', userId: 'u1', failures: 3, firstSeq: '1', lastSeq: '3' },
    });
    expect(finding.facts.ips).toEqual(['198.51.100.1', '203.0.113.7']);
  });

  it('should stay quiet under the threshold or when the failures are spread out', () => {
    expect(bruteForceFindings([failure(1, 0), failure(2, 10)], rule, '0')).toEqual([]);
    expect(bruteForceFindings([failure(1, 0), failure(2, 70), failure(3, 140)], rule, '0')).toEqual(
      [],
    );
  });

  it('should report one IP trying many accounts once, not once per account', () => {
    const spray = [1, 2, 3, 4].map((n) => failure(n, n, { userId: null, email: `x${n}@a.test` }));
    const findings = bruteForceFindings(spray, rule, '0');
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({
      dedupeKey: 'brute_force:ip:203.0.113.7',
      principals: [],
      facts: { subject: 'ip', failures: 4 },
    });
    expect(findings[0].facts.accounts).toHaveLength(4);
  });
});

describe('massRevealFindings', () => {
  const reveal = (seq: number, seconds: number, credentialId: string): RevealEvent => ({
    seq: String(seq),
    at: at(seconds),
    actorType: 'service',
    actorId: 's1',
    credentialId,
    ip: '10.0.0.5',
  });
  const rule = { distinctCredentials: 3, windowSeconds: 60 };

  it('should report a principal revealing many distinct credentials and link them', () => {
    const [finding] = massRevealFindings(
      [reveal(1, 0, 'c1'), reveal(2, 1, 'c2'), reveal(3, 2, 'c2'), reveal(4, 3, 'c3')],
      rule,
      '0',
    );
    expect(finding).toMatchObject({
      type: 'unauthorized_access',
      dedupeKey: 'unauthorized_access:mass_reveal:service:s1',
      credentialIds: ['c1', 'c2', 'c3'],
      principals: [{ type: 'service_account', id: 's1' }],
      facts: { distinctCredentials: 3, reveals: 4, ips: ['10.0.0.5'] },
    });
  });

  it('should not report one credential revealed often', () => {
    const polling = [1, 2, 3, 4, 5].map((n) => reveal(n, n, 'c1'));
    expect(massRevealFindings(polling, rule, '0')).toEqual([]);
  });
});

describe('rotationFailureFindings', () => {
  const failed = (seq: number, seconds: number): RotationFailure => ({
    seq: String(seq),
    at: at(seconds),
    credentialId: 'c9',
    runId: `r${seq}`,
  });

  it('should report a credential whose rotation failed N times in the window', () => {
    const [finding] = rotationFailureFindings(
      [failed(1, 0), failed(2, 50)],
      { threshold: 2, windowSeconds: 3600 },
      '0',
    );
    expect(finding).toMatchObject({
      dedupeKey: 'rotation_failure:c9',
      credentialIds: ['c9'],
      facts: { failures: 2, runIds: ['r1', 'r2'] },
    });
  });

  it('should not report failures further apart than the window', () => {
    expect(
      rotationFailureFindings(
        [failed(1, 0), failed(2, 50)],
        { threshold: 2, windowSeconds: 10 },
        '0',
      ),
    ).toEqual([]);
  });
});

describe('auditTamperFinding', () => {
  it('should name the first bad seq of a failed verification', () => {
    const finding = auditTamperFinding({
      ok: false,
      verified: 9,
      headSeq: '12',
      firstBadSeq: '7',
      reason: 'hash mismatch',
    });
    expect(finding).toMatchObject({
      type: 'audit_tamper',
      severity: 'critical',
      dedupeKey: 'audit_tamper',
      facts: { firstBadSeq: '7' },
    });
  });

  it('should report incident timelines that disagree with an intact chain', () => {
    const problems = [{ seq: 2, auditSeq: '40', problem: 'altered' as const }];
    const finding = auditTamperFinding({ ok: true, verified: 9, headSeq: '12' }, [
      { incidentId: 'i1', problems },
    ]);
    expect(finding).toMatchObject({
      type: 'audit_tamper',
      dedupeKey: 'audit_tamper',
      title: 'Incident timelines disagree with the audit chain (entries: 1, incidents: 1)',
      facts: { firstBadSeq: null, tamperedTimelines: [{ incidentId: 'i1', problems }] },
    });
  });

  it('should find nothing in an intact chain with intact timelines', () => {
    expect(auditTamperFinding({ ok: true, verified: 9, headSeq: '12' }, [])).toBeNull();
  });
});
