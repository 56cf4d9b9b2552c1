import fc from 'fast-check';
import { ChainedEvent } from '../../src/audit/chain/audit-chain';
import { canonicalJson } from '../../src/audit/chain/canonical-json';
import { AUDIT_ACTOR_TYPES, AUDIT_OUTCOMES } from '../../src/audit/entities/audit-event.entity';

/** Arbitrary audit-event parts and field changes, shared by the chain and verifier properties. */
export const text = fc.string({ unit: 'binary', maxLength: 30 });
export const nullableText = fc.option(text, { nil: null });
export const hexHash = fc
  .uint8Array({ minLength: 32, maxLength: 32 })
  .map((bytes) => Buffer.from(bytes).toString('hex'));
export const detailsArb = fc
  .dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 })
  .map(canonicalJson);
export const dateArb = fc.date({
  min: new Date('2000-01-01T00:00:00Z'),
  max: new Date('2100-01-01T00:00:00Z'),
  noInvalidDate: true,
});

/** Everything an event says, but its place in the chain (lane, lane_seq) and its key id. */
export type Content = Omit<ChainedEvent, 'lane' | 'laneSeq' | 'keyId'>;

export const contentArb: fc.Arbitrary<Content> = fc.record({
  occurredAt: dateArb,
  actorType: fc.constantFrom(...AUDIT_ACTOR_TYPES),
  actorId: nullableText,
  actorDisplay: nullableText,
  ip: nullableText,
  userAgent: nullableText,
  requestId: nullableText,
  action: fc.string({ unit: 'binary', minLength: 1, maxLength: 30 }),
  resourceType: nullableText,
  resourceId: nullableText,
  outcome: fc.constantFrom(...AUDIT_OUTCOMES),
  httpStatus: fc.option(fc.integer({ min: 100, max: 599 }), { nil: null }),
  details: detailsArb,
});

export const rotate = <T>(values: readonly T[], value: T, by: number): T =>
  values[(values.indexOf(value) + by) % values.length];
export const otherText = (candidate: string, old: string): string =>
  candidate === old ? `${old}x` : candidate;
export const otherNullable = <T>(candidate: T | null, old: T | null, fallback: T): T | null =>
  candidate !== old ? candidate : old === null ? fallback : null;

type NullableTextField =
  'actorId' | 'actorDisplay' | 'ip' | 'userAgent' | 'requestId' | 'resourceType' | 'resourceId';
type ChangedField = keyof Content | 'lane';
export type Change<E> = (event: E) => E;

/**
 * For the lane and every content field, a change guaranteed to give a different value; the
 * specs add their own changes for lane_seq, key id and (stored events) the hashes.
 */
export function contentChanges<E extends ChainedEvent>(): {
  [K in ChangedField]: fc.Arbitrary<Change<E>>;
} {
  const nullableTextChange = (field: NullableTextField): fc.Arbitrary<Change<E>> =>
    nullableText.map((candidate) => (e) => ({
      ...e,
      [field]: otherNullable(candidate, e[field], ''),
    }));
  return {
    lane: fc.integer({ min: 1, max: 32_000 }).map((by) => (e) => ({ ...e, lane: e.lane + by })),
    occurredAt: fc
      .tuple(fc.integer({ min: 1, max: 10 ** 10 }), fc.boolean())
      .map(([ms, earlier]) => (e) => ({
        ...e,
        occurredAt: new Date(e.occurredAt.getTime() + (earlier ? -ms : ms)),
      })),
    actorType: fc
      .integer({ min: 1, max: AUDIT_ACTOR_TYPES.length - 1 })
      .map((by) => (e) => ({ ...e, actorType: rotate(AUDIT_ACTOR_TYPES, e.actorType, by) })),
    actorId: nullableTextChange('actorId'),
    actorDisplay: nullableTextChange('actorDisplay'),
    ip: nullableTextChange('ip'),
    userAgent: nullableTextChange('userAgent'),
    requestId: nullableTextChange('requestId'),
    action: text.map((candidate) => (e) => ({ ...e, action: otherText(candidate, e.action) })),
    resourceType: nullableTextChange('resourceType'),
    resourceId: nullableTextChange('resourceId'),
    outcome: fc
      .integer({ min: 1, max: AUDIT_OUTCOMES.length - 1 })
      .map((by) => (e) => ({ ...e, outcome: rotate(AUDIT_OUTCOMES, e.outcome, by) })),
    httpStatus: fc
      .option(fc.integer({ min: 100, max: 599 }), { nil: null })
      .map((candidate) => (e) => ({
        ...e,
        httpStatus: otherNullable(candidate, e.httpStatus, 200),
      })),
    details: fc.oneof(
      detailsArb.map((candidate) => (e: E) => ({ ...e, details: otherText(candidate, e.details) })),
      // Same value, different text: the hash is over the text as stored.
      fc.constant((e: E) => ({ ...e, details: `${e.details} ` })),
    ),
  };
}
