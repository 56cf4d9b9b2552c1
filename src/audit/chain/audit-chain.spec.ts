import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import {
  contentArb,
  contentChanges,
  dateArb,
  hexHash,
  otherText,
  text,
} from '../../../test/helpers/audit-chain-arbitraries';
import {
  canonicalCheckpointLanes,
  canonicalEvent,
  ChainedEvent,
  chainHash,
  CheckpointLane,
  parseCheckpointLanes,
  signCheckpoint,
} from './audit-chain';

const KEY = randomBytes(32);

const eventArb: fc.Arbitrary<ChainedEvent> = fc
  .tuple(
    contentArb,
    fc.integer({ min: 0, max: 63 }),
    fc.bigInt({ min: 1n, max: 2n ** 63n - 1n }).map(String),
    fc.constantFrom('k1', 'k2', 'audit-2026'),
  )
  .map(([content, lane, laneSeq, keyId]) => ({ ...content, lane, laneSeq, keyId }));

type Change = (event: ChainedEvent) => ChainedEvent;

/** For every field, a change guaranteed to give a different value. */
const CHANGE: { [K in keyof ChainedEvent]: fc.Arbitrary<Change> } = {
  ...contentChanges<ChainedEvent>(),
  laneSeq: fc.oneof(
    fc
      .bigInt({ min: 1n, max: 10n ** 15n })
      .map((by) => (e: ChainedEvent) => ({ ...e, laneSeq: String(BigInt(e.laneSeq) + by) })),
    fc.constant((e: ChainedEvent) => ({ ...e, laneSeq: `0${e.laneSeq}` })),
  ),
  keyId: text.map((candidate) => (e) => ({ ...e, keyId: otherText(candidate, e.keyId) })),
};
const FIELDS = Object.keys(CHANGE) as (keyof ChainedEvent)[];

const FIXED_EVENT: ChainedEvent = {
  lane: 2,
  laneSeq: '41',
  occurredAt: new Date('2026-03-04T05:06:07.089Z'),
  actorType: 'user',
  actorId: 'u-1',
  actorDisplay: 'Ada',
  ip: '10.0.0.1',
  userAgent: 'curl/8',
  requestId: 'req-1',
  action: 'credential.reveal',
  resourceType: 'credential',
  resourceId: 'c-9',
  outcome: 'success',
  httpStatus: 200,
  details: '{"route":"/api/v1/credentials/:id"}',
  keyId: 'k1',
};

describe('canonicalEvent', () => {
  it('should write the format version and every field in a fixed order', () => {
    expect(canonicalEvent(FIXED_EVENT)).toBe(
      '[1,2,"41","2026-03-04T05:06:07.089Z","user","u-1","Ada","10.0.0.1","curl/8","req-1",' +
        '"credential.reveal","credential","c-9","success",200,' +
        '"{\\"route\\":\\"/api/v1/credentials/:id\\"}","k1"]',
    );
  });

  it('should give the same text for the same event, whatever the object it comes in', () => {
    fc.assert(
      fc.property(eventArb, (event) => {
        const sut = canonicalEvent(event);
        const reordered = Object.fromEntries(Object.entries(event).reverse()) as ChainedEvent;
        expect(canonicalEvent(event)).toBe(sut);
        expect(canonicalEvent({ ...reordered, occurredAt: new Date(event.occurredAt) })).toBe(sut);
      }),
    );
  });

  it('should ignore what the stored row adds to the event', () => {
    fc.assert(
      fc.property(eventArb, hexHash, fc.option(hexHash, { nil: null }), (event, hash, prevHash) => {
        expect(canonicalEvent({ ...event, seq: '99', prevHash, hash } as ChainedEvent)).toBe(
          canonicalEvent(event),
        );
      }),
    );
  });

  it('should cover every field of a chained event with a change', () => {
    expect([...FIELDS].sort()).toEqual(Object.keys(FIXED_EVENT).sort());
  });

  it.each(FIELDS)('should give a different text when %s differs', (field) => {
    fc.assert(
      fc.property(eventArb, CHANGE[field], (event, change) => {
        const changed = change(event);
        expect(changed[field]).not.toEqual(event[field]);
        expect(canonicalEvent(changed)).not.toBe(canonicalEvent(event));
      }),
    );
  });
});

describe('chainHash', () => {
  it('should be a deterministic hex SHA-256 HMAC', () => {
    fc.assert(
      fc.property(eventArb, fc.option(hexHash, { nil: null }), (event, prevHash) => {
        const sut = chainHash(KEY, prevHash, event);
        expect(sut).toMatch(/^[0-9a-f]{64}$/);
        expect(chainHash(Buffer.from(KEY), prevHash, { ...event })).toBe(sut);
      }),
    );
  });

  it('should depend on the previous hash', () => {
    fc.assert(
      fc.property(eventArb, hexHash, hexHash, (event, a, b) => {
        fc.pre(a !== b);
        expect(chainHash(KEY, a, event)).not.toBe(chainHash(KEY, b, event));
        expect(chainHash(KEY, a, event)).not.toBe(chainHash(KEY, null, event));
      }),
    );
  });

  it('should depend on the key', () => {
    fc.assert(
      fc.property(eventArb, fc.option(hexHash, { nil: null }), (event, prevHash) => {
        expect(chainHash(randomBytes(32), prevHash, event)).not.toBe(
          chainHash(KEY, prevHash, event),
        );
      }),
    );
  });

  it('should depend on every field of the event', () => {
    fc.assert(
      fc.property(
        eventArb,
        fc.option(hexHash, { nil: null }),
        fc.oneof(...FIELDS.map((field) => CHANGE[field])),
        (event, prevHash, change) => {
          expect(chainHash(KEY, prevHash, change(event))).not.toBe(chainHash(KEY, prevHash, event));
        },
      ),
    );
  });
});

const lanesArb: fc.Arbitrary<CheckpointLane[]> = fc.uniqueArray(
  fc.record({
    lane: fc.integer({ min: 0, max: 1000 }),
    laneSeq: fc.bigInt({ min: 0n, max: 2n ** 63n - 1n }).map(String),
    seq: fc.option(fc.bigInt({ min: 1n, max: 2n ** 63n - 1n }).map(String), { nil: null }),
    hash: fc.option(hexHash, { nil: null }),
  }),
  { selector: (lane) => lane.lane, maxLength: 12 },
);
const lanesAndShuffledArb = lanesArb.chain((lanes) =>
  fc
    .shuffledSubarray(lanes, { minLength: lanes.length, maxLength: lanes.length })
    .map((shuffled): [CheckpointLane[], CheckpointLane[]] => [lanes, shuffled]),
);
const byLane = (lanes: CheckpointLane[]): CheckpointLane[] =>
  [...lanes].sort((a, b) => a.lane - b.lane);

describe('canonicalCheckpointLanes and parseCheckpointLanes', () => {
  it('should write the lanes as rows in lane order', () => {
    expect(
      canonicalCheckpointLanes([
        { lane: 1, laneSeq: '7', seq: '30', hash: 'bb' },
        { lane: 0, laneSeq: '0', seq: null, hash: null },
      ]),
    ).toBe('[[0,"0",null,null],[1,"7","30","bb"]]');
  });

  it('should read back the lanes it wrote, in lane order', () => {
    fc.assert(
      fc.property(lanesArb, (lanes) => {
        expect(parseCheckpointLanes(canonicalCheckpointLanes(lanes))).toEqual(byLane(lanes));
      }),
    );
  });

  it('should write the same text whatever the order of the lanes', () => {
    fc.assert(
      fc.property(lanesAndShuffledArb, ([lanes, shuffled]) => {
        expect(canonicalCheckpointLanes(shuffled)).toBe(canonicalCheckpointLanes(lanes));
      }),
    );
  });

  it('should not reorder the lanes it is given', () => {
    fc.assert(
      fc.property(lanesArb, (lanes) => {
        const copy = lanes.map((lane) => ({ ...lane }));
        canonicalCheckpointLanes(lanes);
        expect(lanes).toEqual(copy);
      }),
    );
  });
});

describe('signCheckpoint', () => {
  const headSeqArb = fc.option(fc.bigInt({ min: 0n, max: 2n ** 63n - 1n }).map(String), {
    nil: null,
  });

  it('should be a deterministic hex signature that survives a round trip of its lanes', () => {
    fc.assert(
      fc.property(dateArb, headSeqArb, lanesArb, (createdAt, headSeq, lanes) => {
        const lanesText = canonicalCheckpointLanes(lanes);
        const sut = signCheckpoint(KEY, createdAt, headSeq, lanesText);
        const reread = canonicalCheckpointLanes(parseCheckpointLanes(lanesText));
        expect(sut).toMatch(/^[0-9a-f]{64}$/);
        expect(signCheckpoint(KEY, new Date(createdAt), headSeq, reread)).toBe(sut);
      }),
    );
  });

  it('should sign the same lanes alike whatever their order', () => {
    fc.assert(
      fc.property(
        dateArb,
        headSeqArb,
        lanesAndShuffledArb,
        (createdAt, headSeq, [lanes, shuffled]) => {
          expect(signCheckpoint(KEY, createdAt, headSeq, canonicalCheckpointLanes(shuffled))).toBe(
            signCheckpoint(KEY, createdAt, headSeq, canonicalCheckpointLanes(lanes)),
          );
        },
      ),
    );
  });

  it('should change with the key, the time, the head seq and the lanes', () => {
    fc.assert(
      fc.property(
        dateArb,
        headSeqArb,
        lanesArb,
        fc.integer({ min: 1, max: 10 ** 9 }),
        (createdAt, headSeq, lanes, ms) => {
          const lanesText = canonicalCheckpointLanes(lanes);
          const sut = signCheckpoint(KEY, createdAt, headSeq, lanesText);
          const laterAt = new Date(createdAt.getTime() + ms);
          const otherHead = headSeq === null ? '0' : headSeq === '0' ? null : `${headSeq}0`;
          const otherLanes = canonicalCheckpointLanes([
            ...lanes.filter((lane) => lane.lane !== 1001),
            { lane: 1001, laneSeq: '1', seq: '1', hash: null },
          ]);
          expect(signCheckpoint(randomBytes(32), createdAt, headSeq, lanesText)).not.toBe(sut);
          expect(signCheckpoint(KEY, laterAt, headSeq, lanesText)).not.toBe(sut);
          expect(signCheckpoint(KEY, createdAt, otherHead, lanesText)).not.toBe(sut);
          expect(signCheckpoint(KEY, createdAt, headSeq, otherLanes)).not.toBe(sut);
        },
      ),
    );
  });
});
