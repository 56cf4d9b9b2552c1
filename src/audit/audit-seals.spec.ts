import { randomBytes } from 'node:crypto';
import type { KeyringService } from '../crypto/keyring.service';
import type { AuditSigningKeys } from './audit-signing-keys';
import type { AuditWriter } from './audit-writer';
import { AuditSeals } from './audit-seals';
import { chainHash } from './chain/audit-chain';
import type { StoredEvent } from './chain/lane-verifier';

describe('AuditSeals', () => {
  const keys = new Map([
    ['k1', randomBytes(32)],
    ['k2', randomBytes(32)],
  ]);
  let active = 'k1';
  const keyring = {
    currentPurposeKey: () => ({ keyId: active, key: keys.get(active)! }),
  } as unknown as KeyringService;
  const signing = { chainKey: (keyId: string) => keys.get(keyId) } as unknown as AuditSigningKeys;
  const writer = { hmacIdentifier: (v: string) => `hmac:${v.length}` } as unknown as AuditWriter;
  const sut = new AuditSeals(keyring, signing, writer);

  afterEach(() => (active = 'k1'));

  it('should match a seal with its text and purpose only', () => {
    const seal = sut.seal('entry', 'the text');

    expect(seal).toMatch(/^k1:[0-9a-f]{64}$/);
    expect(sut.sealMatches(seal, 'entry', 'the text')).toBe(true);
    expect(sut.sealMatches(seal, 'entry', 'the text.')).toBe(false);
    expect(sut.sealMatches(seal, 'other', 'the text')).toBe(false);
  });

  it('should check a seal under the key that made it after the active key changed', () => {
    const seal = sut.seal('entry', 'the text');
    active = 'k2';

    expect(sut.sealMatches(seal, 'entry', 'the text')).toBe(true);
    expect(sut.sealMatches(sut.seal('entry', 'the text'), 'entry', 'the text')).toBe(true);
  });

  it('should say a seal under a key it does not hold is unverifiable, and a malformed one false', () => {
    expect(sut.sealMatches(`gone:${'0'.repeat(64)}`, 'entry', 'the text')).toBeUndefined();
    expect(sut.sealMatches('no key id', 'entry', 'the text')).toBe(false);
  });

  it('should find an event intact until a field changes', () => {
    const fields = {
      seq: '5',
      lane: 0,
      laneSeq: '3',
      occurredAt: new Date('2026-11-30T12:00:00Z'),
      actorType: 'user' as const,
      actorId: 'u1',
      actorDisplay: 'ops@example.com',
      ip: null,
      userAgent: null,
      requestId: null,
      action: 'incident.comment',
      resourceType: 'incident',
      resourceId: 'i1',
      outcome: 'success' as const,
      httpStatus: null,
      details: '{"text":"hello"}',
      keyId: 'k1',
      prevHash: 'ab',
    };
    const event: StoredEvent = { ...fields, hash: chainHash(keys.get('k1')!, 'ab', fields) };

    expect(sut.eventIntact(event)).toBe(true);
    expect(sut.eventIntact({ ...event, details: '{"text":"FORGED"}' })).toBe(false);
    expect(sut.eventIntact({ ...event, keyId: 'gone' })).toBeUndefined();
  });

  it('should give details as the writer records them', () => {
    expect(sut.detailsAsRecorded({ b: 1, email: 'a@b.c', password: 'x', a: 'y' })).toBe(
      '{"a":"y","b":1,"email":"hmac:5","password":"[REDACTED]"}',
    );
  });
});
