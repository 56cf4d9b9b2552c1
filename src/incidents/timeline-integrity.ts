import type { StoredEvent } from '../audit/chain/lane-verifier';
import type { IncidentTimelineEntry } from './entities/incident-timeline-entry.entity';

/**
 * What is wrong with a line of a timeline:
 * - `altered`: the row says something its audit event does not (text, details, actor, time);
 * - `unrecorded`: the row names no audit event of this incident's timeline (inserted by hand);
 * - `missing`: an audit event, or a gap in the numbering, says an entry is gone from the table;
 * - `event_altered`: the audit event itself no longer matches its hash;
 * - `unverifiable`: it was sealed with a master key this instance does not hold.
 */
export const TIMELINE_PROBLEMS = [
  'altered',
  'unrecorded',
  'missing',
  'event_altered',
  'unverifiable',
] as const;
export type TimelineProblemKind = (typeof TIMELINE_PROBLEMS)[number];

export interface TimelineProblem {
  /** The entry's seq, as the row or its audit event numbers it. */
  seq: number | null;
  auditSeq: string | null;
  problem: TimelineProblemKind;
}

export interface TimelineIntegrity {
  /** True when every entry in range matched its intact audit event and none is missing. */
  ok: boolean;
  /** Entries checked against their audit events. */
  checked: number;
  problems: TimelineProblem[];
}

/** The checks that need keys: kept apart so the matching below is plain logic. */
export interface TimelineSeals {
  eventIntact(event: StoredEvent): boolean | undefined;
  sealMatches(seal: string, text: string): boolean | undefined;
  detailsAsRecorded(details: Record<string, unknown>): string;
}

/** The purpose an entry's seal is made for, so it cannot be taken for another digest. */
export const TIMELINE_SEAL_PURPOSE = 'incident-timeline-entry';

/** What an entry's audit event holds besides the entry's own details. */
export const ENTRY_SEAL_FIELD = 'entryDigest';

/** The text an entry's seal covers: every column a reader is shown, in a fixed order. */
export function entrySealText(entry: IncidentTimelineEntry): string {
  return JSON.stringify([
    1,
    entry.incidentId,
    entry.seq,
    entry.kind,
    entry.actorType,
    entry.actorId,
    entry.actorDisplay,
    entry.text,
    entry.details,
    entry.occurredAt.toISOString(),
  ]);
}

/** The details of an entry's audit event, as the timeline writes them. */
export function entryEventDetails(
  entry: Pick<IncidentTimelineEntry, 'kind' | 'seq' | 'text'>,
  details: Record<string, unknown>,
): Record<string, unknown> {
  return {
    kind: entry.kind,
    timelineSeq: entry.seq,
    ...(entry.text ? { text: entry.text } : {}),
    ...details,
  };
}

/** The seqs a page covers: after `after`, up to `until` (inclusive) when more pages follow. */
export interface TimelineRange {
  after: number;
  until: number | null;
}

/**
 * Checks a page of timeline rows against the incident's timeline audit events (those whose
 * details carry a timelineSeq), and finds the entries of the range the table no longer has.
 */
export function checkTimeline(
  incidentId: string,
  rows: IncidentTimelineEntry[],
  events: StoredEvent[],
  range: TimelineRange,
  seals: TimelineSeals,
): { verified: boolean[]; integrity: TimelineIntegrity } {
  const bySeq = new Map(events.map((event) => [String(event.seq), event]));
  const problems: TimelineProblem[] = [];
  const claimed = new Set<string>();
  const verified = rows.map((row) => {
    const event = bySeq.get(String(row.auditSeq));
    const problem = event ? rowProblem(incidentId, row, event, seals) : 'unrecorded';
    if (event) claimed.add(String(event.seq));
    if (problem) problems.push({ seq: row.seq, auditSeq: String(row.auditSeq), problem });
    return problem === null;
  });

  const inRange = (seq: number) =>
    seq > range.after && (range.until === null || seq <= range.until);
  const known = new Set(rows.map((row) => row.seq));
  for (const event of events) {
    const seq = timelineSeqOf(event);
    if (seq === null || !inRange(seq) || claimed.has(String(event.seq))) continue;
    known.add(seq);
    const intact = seals.eventIntact(event);
    problems.push({
      seq,
      auditSeq: String(event.seq),
      problem: intact === false ? 'event_altered' : 'missing',
    });
  }
  // Both the row and its event deleted: the numbering still shows the hole.
  const highest = Math.max(range.after, ...known);
  for (let seq = range.after + 1; seq < highest; seq++) {
    if (!known.has(seq)) problems.push({ seq, auditSeq: null, problem: 'missing' });
  }
  problems.sort((a, b) => (a.seq ?? 0) - (b.seq ?? 0));
  return {
    verified,
    integrity: { ok: problems.length === 0, checked: rows.length, problems },
  };
}

function rowProblem(
  incidentId: string,
  row: IncidentTimelineEntry,
  event: StoredEvent,
  seals: TimelineSeals,
): TimelineProblemKind | null {
  const intact = seals.eventIntact(event);
  if (intact === undefined) return 'unverifiable';
  if (!intact) return 'event_altered';
  if (event.resourceType !== 'incident' || event.resourceId !== incidentId) return 'unrecorded';
  const recorded = parseDetails(event.details);
  if (recorded?.timelineSeq !== row.seq) return 'unrecorded';
  const seal = recorded[ENTRY_SEAL_FIELD];
  if (typeof seal === 'string') {
    const matches = seals.sealMatches(seal, entrySealText(row));
    if (matches === undefined) return 'unverifiable';
    return matches ? null : 'altered';
  }
  // Entries written before seals: compare what the event recorded of them (their time is not
  // recorded, and long texts and sensitive fields only as the audit log keeps them).
  return sameActor(row, event) && legacyDetailsMatch(row, event.details, seals) ? null : 'altered';
}

function legacyDetailsMatch(
  row: IncidentTimelineEntry,
  recorded: string,
  seals: TimelineSeals,
): boolean {
  let details: unknown;
  try {
    details = JSON.parse(row.details);
  } catch {
    return false;
  }
  if (details === null || typeof details !== 'object' || Array.isArray(details)) return false;
  const expected = entryEventDetails(row, details as Record<string, unknown>);
  return seals.detailsAsRecorded(expected) === recorded;
}

function sameActor(row: IncidentTimelineEntry, event: StoredEvent): boolean {
  return (
    row.actorType === event.actorType &&
    clip(row.actorId, 64) === event.actorId &&
    clip(row.actorDisplay, 255) === event.actorDisplay
  );
}

function clip(value: string | null, max: number): string | null {
  return value === null || value === '' ? null : value.slice(0, max);
}

function parseDetails(text: string): Record<string, unknown> | null {
  try {
    const value = JSON.parse(text) as unknown;
    return value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** The entry an audit event records, if it records one. */
export function timelineSeqOf(event: StoredEvent): number | null {
  const seq = parseDetails(event.details)?.timelineSeq;
  return typeof seq === 'number' && Number.isInteger(seq) ? seq : null;
}
