import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import {
  Content,
  contentArb,
  contentChanges,
  hexHash,
  otherNullable,
  otherText,
  text,
} from '../../../test/helpers/audit-chain-arbitraries';
import { ChainedEvent, chainHash } from './audit-chain';
import {
  ChainBreak,
  CheckpointPin,
  LaneExpectations,
  LaneHead,
  LaneVerifier,
  StoredEvent,
} from './lane-verifier';

const KEY = randomBytes(32);
const OTHER_KEY = randomBytes(32);
const KEYS = new Map([
  ['k1', KEY],
  ['k2', OTHER_KEY],
]);
const keyFor = (keyId: string): Buffer | undefined => KEYS.get(keyId);

/** Lane 0, lane_seq 1, 2, …, seq increasing by the given gaps (other lanes take the rest). */
function buildChain(items: [Content, number][], key = KEY): StoredEvent[] {
  const chain: StoredEvent[] = [];
  let seq = 0n;
  let prevHash: string | null = null;
  items.forEach(([content, gap], index) => {
    seq += BigInt(gap);
    const event: ChainedEvent = { ...content, lane: 0, laneSeq: String(index + 1), keyId: 'k1' };
    const hash = chainHash(key, prevHash, event);
    chain.push({ ...event, seq: String(seq), prevHash, hash });
    prevHash = hash;
  });
  return chain;
}

const chainArb = fc
  .array(fc.tuple(contentArb, fc.integer({ min: 1, max: 3 })), { minLength: 1, maxLength: 30 })
  .map((items) => buildChain(items));
const longChainArb = fc
  .array(fc.tuple(contentArb, fc.integer({ min: 1, max: 3 })), { minLength: 2, maxLength: 30 })
  .map((items) => buildChain(items));

/** Feeds the events in order, as the verifier's caller does, and stops at the first break. */
function verify(
  events: StoredEvent[],
  keys: (keyId: string) => Buffer | undefined = keyFor,
): { sut: LaneVerifier; broken: ChainBreak | null } {
  const sut = new LaneVerifier(0, keys);
  for (const event of events) {
    const broken = sut.accept(event);
    if (broken) return { sut, broken };
  }
  return { sut, broken: null };
}

type Tamper = (event: StoredEvent) => StoredEvent;
type TamperedField = Exclude<keyof StoredEvent, 'seq'>;

/** For every field but seq, a change that is guaranteed to give a different value. */
const TAMPER: { [K in TamperedField]: fc.Arbitrary<Tamper> } = {
  ...contentChanges<StoredEvent>(),
  laneSeq: fc.oneof(
    fc
      .bigInt({ min: 1n, max: 10n ** 15n })
      .map((by) => (e: StoredEvent) => ({ ...e, laneSeq: String(BigInt(e.laneSeq) + by) })),
    fc.constant((e: StoredEvent) => ({ ...e, laneSeq: String(BigInt(e.laneSeq) - 1n) })),
    // The same number written differently: passes the order check, not the hash.
    fc.constant((e: StoredEvent) => ({ ...e, laneSeq: `0${e.laneSeq}` })),
  ),
  keyId: fc
    .oneof(fc.constant('k2'), text)
    .map((candidate) => (e) => ({ ...e, keyId: otherText(candidate, e.keyId) })),
  prevHash: fc.option(hexHash, { nil: null }).map((candidate) => (e) => ({
    ...e,
    prevHash: otherNullable(candidate, e.prevHash, '0'.repeat(64)),
  })),
  hash: fc.oneof(
    hexHash.map((candidate) => (e: StoredEvent) => ({ ...e, hash: otherText(candidate, e.hash) })),
    fc.constant((e: StoredEvent) => ({
      ...e,
      hash: `${e.hash.slice(0, -1)}${e.hash.endsWith('0') ? '1' : '0'}`,
    })),
    fc.constant((e: StoredEvent) => ({ ...e, hash: e.hash.slice(0, -1) })),
  ),
};
const FIELDS = Object.keys(TAMPER) as TamperedField[];

describe('LaneVerifier', () => {
  it('should accept every event of an honest chain and end at its last event', () => {
    fc.assert(
      fc.property(chainArb, (chain) => {
        const { sut, broken } = verify(chain);
        const last = chain[chain.length - 1];
        expect(broken).toBeNull();
        expect(sut.verified).toBe(chain.length);
        expect(sut.head).toEqual({ laneSeq: last.laneSeq, seq: last.seq, hash: last.hash });
      }),
    );
  });

  it('should start from an empty head', () => {
    const sut = new LaneVerifier(3, keyFor);
    expect(sut.verified).toBe(0);
    expect(sut.head).toEqual({ laneSeq: '0', seq: null, hash: null });
  });

  it('should cover every field of a stored event but seq with a tampering case', () => {
    const event = buildChain([[fc.sample(contentArb, 1)[0], 1]])[0];
    expect([...FIELDS, 'seq'].sort()).toEqual(Object.keys(event).sort());
  });

  it.each(FIELDS)('should report a break at exactly the event whose %s was changed', (field) => {
    fc.assert(
      fc.property(chainArb, fc.nat(), TAMPER[field], (chain, n, tamper) => {
        const index = n % chain.length;
        const tampered = [...chain];
        tampered[index] = tamper(chain[index]);
        expect(tampered[index][field]).not.toEqual(chain[index][field]);

        const { sut, broken } = verify(tampered);

        expect(broken).toMatchObject({ seq: chain[index].seq, lane: 0 });
        expect(sut.verified).toBe(index);
        expect(sut.head.seq).toBe(index === 0 ? null : chain[index - 1].seq);
      }),
    );
  });

  it('should report a seq moved out of order at that event or its successor', () => {
    fc.assert(
      fc.property(
        chainArb,
        fc.nat(),
        fc.boolean(),
        fc.bigInt({ min: 0n, max: 100n }),
        (chain, n, backwards, by) => {
          const index = n % chain.length;
          const previousSeq = index === 0 ? 0n : BigInt(chain[index - 1].seq);
          const successor = chain[index + 1];
          const moveForward = !backwards && successor !== undefined;
          // Not after its predecessor, or not before its successor.
          const newSeq = moveForward
            ? BigInt(successor.seq) + by
            : previousSeq - (by > previousSeq ? previousSeq : by);
          const tampered = [...chain];
          tampered[index] = { ...chain[index], seq: String(newSeq) };

          const { sut, broken } = verify(tampered);

          expect(broken).not.toBeNull();
          expect(broken?.seq).toBe(moveForward ? successor.seq : String(newSeq));
          expect(sut.verified).toBe(moveForward ? index + 1 : index);
        },
      ),
    );
  });

  it('should report a deleted event at the event that follows it', () => {
    fc.assert(
      fc.property(longChainArb, fc.nat(), (chain, n) => {
        const index = n % (chain.length - 1);
        const shortened = chain.filter((_, i) => i !== index);

        const { sut, broken } = verify(shortened);

        expect(broken?.seq).toBe(chain[index + 1].seq);
        expect(broken?.reason).toMatch(/missing/);
        expect(sut.verified).toBe(index);
      }),
    );
  });

  it('should not notice a removed last event by itself, but report the head it reached', () => {
    fc.assert(
      fc.property(longChainArb, (chain) => {
        const { sut, broken } = verify(chain.slice(0, -1));
        const reached = chain[chain.length - 2];
        expect(broken).toBeNull();
        expect(sut.head).toEqual({
          laneSeq: reached.laneSeq,
          seq: reached.seq,
          hash: reached.hash,
        });
      }),
    );
  });

  it('should report a forged event at the forged event wherever it is inserted', () => {
    fc.assert(
      fc.property(
        chainArb,
        fc.nat(),
        contentArb,
        hexHash,
        fc.boolean(),
        fc.bigInt({ min: 1n, max: 1000n }),
        (chain, n, content, hash, linked, laneSeq) => {
          const position = n % (chain.length + 1);
          const before = chain[position - 1];
          const forged: StoredEvent = {
            ...content,
            lane: 0,
            // Either where the forger wants it to appear, or anywhere.
            laneSeq: linked ? String(position + 1) : String(laneSeq),
            keyId: 'k1',
            seq: String((before ? BigInt(before.seq) : 0n) + 1n),
            prevHash: linked ? (before?.hash ?? null) : hash,
            hash,
          };
          const tampered = [...chain.slice(0, position), forged, ...chain.slice(position)];

          const { sut, broken } = verify(tampered);

          expect(broken?.seq).toBe(forged.seq);
          expect(sut.verified).toBe(position);
        },
      ),
    );
  });

  it('should report two swapped neighbours at the first of them to arrive', () => {
    fc.assert(
      fc.property(longChainArb, fc.nat(), (chain, n) => {
        const index = n % (chain.length - 1);
        const swapped = [...chain];
        [swapped[index], swapped[index + 1]] = [chain[index + 1], chain[index]];

        const { sut, broken } = verify(swapped);

        expect(broken?.seq).toBe(chain[index + 1].seq);
        expect(sut.verified).toBe(index);
      }),
    );
  });

  it('should report a chain written under a different key at its first event', () => {
    fc.assert(
      fc.property(chainArb, (chain) => {
        const { sut, broken } = verify(chain, (keyId) => (keyId === 'k1' ? OTHER_KEY : undefined));
        expect(broken?.seq).toBe(chain[0].seq);
        expect(broken?.reason).toMatch(/hash does not match/);
        expect(sut.verified).toBe(0);
      }),
    );
  });

  it('should report an event whose key id it has no key for, naming the key', () => {
    fc.assert(
      fc.property(chainArb, (chain) => {
        const { sut, broken } = verify(chain, () => undefined);
        expect(broken).toEqual({ seq: chain[0].seq, lane: 0, reason: 'no key for key id "k1"' });
        expect(sut.verified).toBe(0);
      }),
    );
  });

  it('should report breaks with the lane it walks', () => {
    const chain = fc.sample(chainArb, 1)[0];
    const sut = new LaneVerifier(7, keyFor);
    expect(sut.accept({ ...chain[0], hash: 'nope' })).toEqual({
      seq: chain[0].seq,
      lane: 7,
      reason: 'hash does not match the content: the event was changed',
    });
  });

  it('should not move on after a break', () => {
    const chain = fc.sample(longChainArb, 1)[0];
    const sut = new LaneVerifier(0, keyFor);
    expect(sut.accept({ ...chain[0], hash: 'nope' })).not.toBeNull();
    expect(sut.head).toEqual({ laneSeq: '0', seq: null, hash: null });
    expect(sut.accept(chain[0])).toBeNull();
    expect(sut.accept(chain[1])).toBeNull();
    expect(sut.verified).toBe(2);
  });
});

/** Feeds the events, then finish(), as the verifier does for one lane read in one snapshot. */
function walk(events: StoredEvent[], expected: LaneExpectations): ChainBreak | null {
  const sut = new LaneVerifier(0, keyFor, expected);
  for (const event of events) {
    const broken = sut.accept(event);
    if (broken) return broken;
  }
  return sut.finish();
}

const headOf = (event: StoredEvent | undefined): LaneHead =>
  event
    ? { lastLaneSeq: event.laneSeq, lastSeq: event.seq, lastHash: event.hash }
    : { lastLaneSeq: '0', lastSeq: null, lastHash: null };
const pinOf = (event: StoredEvent, source = 'checkpoint 9'): CheckpointPin => ({
  laneSeq: event.laneSeq,
  seq: event.seq,
  hash: event.hash,
  source,
});

describe('LaneVerifier against its head and checkpoints', () => {
  it('should pass a chain that ends exactly at its head and holds every pinned event', () => {
    fc.assert(
      fc.property(chainArb, fc.nat(), (chain, n) => {
        const pinned = chain[n % chain.length];
        expect(
          walk(chain, { head: headOf(chain[chain.length - 1]), pins: [pinOf(pinned)] }),
        ).toBeNull();
      }),
    );
  });

  it('should pass an empty lane with an empty head, or with no head at all', () => {
    expect(walk([], { head: headOf(undefined) })).toBeNull();
    expect(walk([], { head: null })).toBeNull();
    expect(
      walk([], {
        head: headOf(undefined),
        pins: [{ laneSeq: '0', seq: null, hash: null, source: 'checkpoint 1' }],
      }),
    ).toBeNull();
  });

  it('should report events cut from the end at the head it records', () => {
    fc.assert(
      fc.property(longChainArb, fc.integer({ min: 1, max: 29 }), (chain, n) => {
        const cut = Math.min(n, chain.length - 1);
        const last = chain[chain.length - 1];

        const broken = walk(chain.slice(0, -cut), { head: headOf(last) });

        expect(broken).toMatchObject({ lane: 0, seq: last.seq });
        expect(broken?.reason).toBe(
          `lane 0 ends at lane_seq ${chain.length - cut} but its head records ${last.laneSeq}: events were removed from the end`,
        );
      }),
    );
  });

  it('should report the first event beyond a head that was moved back', () => {
    fc.assert(
      fc.property(longChainArb, fc.nat(), (chain, n) => {
        const headAt = n % chain.length;
        const beyond = chain[headAt];

        const broken = walk(chain, { head: headOf(chain[headAt - 1]) });

        expect(broken).toMatchObject({ lane: 0, seq: beyond.seq });
        expect(broken?.reason).toMatch(/beyond its head/);
      }),
    );
  });

  it('should report a head that names another event at the same lane_seq', () => {
    fc.assert(
      fc.property(chainArb, hexHash, fc.boolean(), (chain, hash, changeSeq) => {
        const last = chain[chain.length - 1];
        const head = headOf(last);
        if (changeSeq) head.lastSeq = String(BigInt(last.seq) + 1n);
        else head.lastHash = hash === last.hash ? `${hash.slice(1)}0` : hash;

        const broken = walk(chain, { head });

        expect(broken).toMatchObject({ lane: 0, seq: last.seq });
        expect(broken?.reason).toMatch(/the head was changed/);
      }),
    );
  });

  it('should report a lane with events but no head row', () => {
    fc.assert(
      fc.property(chainArb, (chain) => {
        const last = chain[chain.length - 1];
        expect(walk(chain, { head: null })).toEqual({
          lane: 0,
          seq: last.seq,
          reason: `lane 0 has events up to lane_seq ${last.laneSeq} but no head row: the head was deleted`,
        });
      }),
    );
  });

  it('should report a tail cut below a checkpoint even when the head was rewound to match', () => {
    fc.assert(
      fc.property(longChainArb, fc.nat(), (chain, n) => {
        const pinned = chain[1 + (n % (chain.length - 1))];
        const kept = chain.slice(0, Number(pinned.laneSeq) - 1);

        const broken = walk(kept, { head: headOf(kept[kept.length - 1]), pins: [pinOf(pinned)] });

        expect(broken).toEqual({
          lane: 0,
          seq: pinned.seq,
          reason: `checkpoint 9 saw lane 0 at lane_seq ${pinned.laneSeq}, the chain now ends at ${kept.length}: events were removed`,
        });
      }),
    );
  });

  it('should report a pinned event whose seq or hash differs from what the checkpoint signed', () => {
    fc.assert(
      fc.property(chainArb, fc.nat(), fc.boolean(), (chain, n, renumber) => {
        const pinned = chain[n % chain.length];
        const pin = pinOf(pinned, 'the given checkpoint 4');
        if (renumber) pin.seq = String(BigInt(pinned.seq) + 1n);
        else pin.hash = `${pinned.hash.slice(1)}x`;

        const broken = walk(chain, { head: headOf(chain[chain.length - 1]), pins: [pin] });

        expect(broken).toEqual({
          lane: 0,
          seq: pinned.seq,
          reason: `the event at lane 0, lane_seq ${pinned.laneSeq} differs from what the given checkpoint 4 signed`,
        });
      }),
    );
  });

  it('should hold every checkpoint it is given, not only the latest', () => {
    const chain = fc.sample(longChainArb, 1)[0];
    const last = chain[chain.length - 1];
    const stale = { ...pinOf(chain[0], 'checkpoint 1'), hash: 'f'.repeat(64) };

    const broken = walk(chain, { head: headOf(last), pins: [pinOf(last, 'checkpoint 2'), stale] });

    expect(broken?.reason).toMatch(/differs from what checkpoint 1 signed/);
  });

  it('should leave events written after its snapshot to the next run', () => {
    fc.assert(
      fc.property(longChainArb, fc.nat(), (chain, n) => {
        // The snapshot saw the head and the chain up to the same event; later ones do not exist in it.
        const seen = chain.slice(0, 1 + (n % chain.length));
        const sut = new LaneVerifier(0, keyFor, { head: headOf(seen[seen.length - 1]) });
        for (const event of seen) expect(sut.accept(event)).toBeNull();
        expect(sut.finish()).toBeNull();
        expect(sut.verified).toBe(seen.length);
      }),
    );
  });
});
