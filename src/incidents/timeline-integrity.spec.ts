import { randomBytes } from 'node:crypto';
import { sanitizeDetails } from '../audit/audit-sanitizer';
import { chainHash, hmacHex, sameDigest } from '../audit/chain/audit-chain';
import { canonicalJson } from '../audit/chain/canonical-json';
import type { StoredEvent } from '../audit/chain/lane-verifier';
import type { IncidentTimelineEntry } from './entities/incident-timeline-entry.entity';
import {
  checkTimeline,
  ENTRY_SEAL_FIELD,
  entryEventDetails,
  entrySealText,
  TimelineSeals,
} from './timeline-integrity';

const INCIDENT = '0f6c2b1e-3d4a-4b5c-8d9e-1f2a3b4c5d6e';
const KEY = randomBytes(32);
const KEY_ID = 'k1';

const seals: TimelineSeals = {
  eventIntact: (event) =>
    event.keyId === KEY_ID
      ? sameDigest(event.hash, chainHash(KEY, event.prevHash, event))
      : undefined,
  sealMatches: (seal, text) => seal === `${KEY_ID}:${hmacHex(KEY, text)}`,
  detailsAsRecorded: (details) => canonicalJson(sanitizeDetails(details, (v) => `hmac:${v}`)),
};

function row(
  seq: number,
  text: string,
  overrides: Partial<IncidentTimelineEntry> = {},
): IncidentTimelineEntry {
  return {
    id: `row-${seq}`,
    incidentId: INCIDENT,
    seq,
    kind: 'comment',
    actorType: 'user',
    actorId: 'u1',
    actorDisplay: 'ops@example.com',
    text,
    details: JSON.stringify({ note: 'n' }),
    auditSeq: String(100 + seq),
    occurredAt: new Date(Date.UTC(2026, 10, 30, 12, 0, seq)),
    ...overrides,
  };
}

/** The audit event the timeline writes with `entry`, sealed or (before seals) not. */
function eventOf(entry: IncidentTimelineEntry, sealed = true): StoredEvent {
  const details = entryEventDetails(entry, JSON.parse(entry.details) as Record<string, unknown>);
  const event = {
    seq: String(entry.auditSeq),
    lane: 0,
    laneSeq: String(entry.seq),
    occurredAt: entry.occurredAt,
    actorType: entry.actorType,
    actorId: entry.actorId,
    actorDisplay: entry.actorDisplay,
    ip: null,
    userAgent: null,
    requestId: null,
    action: 'incident.comment',
    resourceType: 'incident',
    resourceId: entry.incidentId,
    outcome: 'success' as const,
    httpStatus: null,
    details: seals.detailsAsRecorded(
      sealed
        ? { [ENTRY_SEAL_FIELD]: `${KEY_ID}:${hmacHex(KEY, entrySealText(entry))}`, ...details }
        : details,
    ),
    keyId: KEY_ID,
    prevHash: null,
  };
  return { ...event, hash: chainHash(KEY, null, event) };
}

const ALL = { after: 0, until: null };

describe('checkTimeline', () => {
  const honest = [row(1, 'first'), row(2, 'second'), row(3, 'third')];

  it('should verify an honest timeline, sealed or written before seals', () => {
    const events = [eventOf(honest[0], false), eventOf(honest[1]), eventOf(honest[2])];

    const sut = checkTimeline(INCIDENT, honest, events, ALL, seals);

    expect(sut).toEqual({
      verified: [true, true, true],
      integrity: { ok: true, checked: 3, problems: [] },
    });
  });

  it.each([
    ['the text', { text: 'FORGED' }],
    ['the details', { details: JSON.stringify({ note: 'forged' }) }],
    ['the actor', { actorDisplay: 'someone@else' }],
    ['the time', { occurredAt: new Date(Date.UTC(2020, 0, 1)) }],
  ])('should report a sealed entry whose %s was changed', (_field, change) => {
    const events = honest.map((entry) => eventOf(entry));
    const rows = [honest[0], { ...honest[1], ...change }, honest[2]];

    const sut = checkTimeline(INCIDENT, rows, events, ALL, seals);

    expect(sut.verified).toEqual([true, false, true]);
    expect(sut.integrity).toEqual({
      ok: false,
      checked: 3,
      problems: [{ seq: 2, auditSeq: '102', problem: 'altered' }],
    });
  });

  it('should report a changed text of an entry written before seals', () => {
    const events = honest.map((entry) => eventOf(entry, false));
    const rows = [{ ...honest[0], text: 'FORGED' }, honest[1], honest[2]];

    const sut = checkTimeline(INCIDENT, rows, events, ALL, seals);

    expect(sut.integrity.problems).toEqual([{ seq: 1, auditSeq: '101', problem: 'altered' }]);
  });

  it('should report a deleted entry from its audit event', () => {
    const events = honest.map((entry) => eventOf(entry));

    const sut = checkTimeline(INCIDENT, [honest[1], honest[2]], events, ALL, seals);

    expect(sut.verified).toEqual([true, true]);
    expect(sut.integrity.problems).toEqual([{ seq: 1, auditSeq: '101', problem: 'missing' }]);
  });

  it('should report a hole in the numbering when the entry and its event are both gone', () => {
    const events = [eventOf(honest[0]), eventOf(honest[2])];

    const sut = checkTimeline(INCIDENT, [honest[0], honest[2]], events, ALL, seals);

    expect(sut.integrity.problems).toEqual([{ seq: 2, auditSeq: null, problem: 'missing' }]);
  });

  it('should report an inserted entry that no audit event records', () => {
    const events = honest.map((entry) => eventOf(entry));
    const fake = row(4, 'all is fine', { auditSeq: '5' });

    const sut = checkTimeline(INCIDENT, [...honest, fake], events, ALL, seals);

    expect(sut.verified).toEqual([true, true, true, false]);
    expect(sut.integrity.problems).toEqual([{ seq: 4, auditSeq: '5', problem: 'unrecorded' }]);
  });

  it("should report an entry pointing at another entry's event", () => {
    const events = honest.map((entry) => eventOf(entry));
    const copy = row(4, 'first', { auditSeq: '101' });

    const sut = checkTimeline(INCIDENT, [...honest, copy], events, ALL, seals);

    expect(sut.integrity.problems).toEqual([{ seq: 4, auditSeq: '101', problem: 'unrecorded' }]);
  });

  it('should report an entry whose audit event was changed along with it', () => {
    const forged = { ...honest[0], text: 'FORGED' };
    const event = eventOf(honest[0], false);
    const events = [
      { ...event, details: eventOf(forged, false).details },
      eventOf(honest[1]),
      eventOf(honest[2]),
    ];

    const sut = checkTimeline(INCIDENT, [forged, honest[1], honest[2]], events, ALL, seals);

    expect(sut.integrity.problems).toEqual([{ seq: 1, auditSeq: '101', problem: 'event_altered' }]);
  });

  it('should say an entry sealed under a key it does not hold is unverifiable', () => {
    const events = [{ ...eventOf(honest[0]), keyId: 'elsewhere' }];

    const sut = checkTimeline(INCIDENT, [honest[0]], events, ALL, seals);

    expect(sut.integrity.problems).toEqual([{ seq: 1, auditSeq: '101', problem: 'unverifiable' }]);
  });

  it('should look for deleted entries only within the page', () => {
    const events = honest.map((entry) => eventOf(entry));

    const first = checkTimeline(INCIDENT, [honest[0]], events, { after: 0, until: 1 }, seals);
    const last = checkTimeline(INCIDENT, [honest[2]], events, { after: 1, until: null }, seals);

    expect(first.integrity).toEqual({ ok: true, checked: 1, problems: [] });
    expect(last.integrity.problems).toEqual([{ seq: 2, auditSeq: '102', problem: 'missing' }]);
  });
});
