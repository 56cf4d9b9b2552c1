import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { contentArb, hexHash } from '../../../test/helpers/audit-chain-arbitraries';
import { ChainedEvent, chainHash } from './audit-chain';
import { chainHashBatch, ChainHashOffload, ChainHashWorker } from './chain-hash-worker';

type Hashable = ChainedEvent & { prevHash: string | null };

const KEYS = new Map([
  ['k1', randomBytes(32)],
  ['k2', randomBytes(32)],
]);
const keyFor = (keyId: string): Buffer | undefined => KEYS.get(keyId);

const eventArb: fc.Arbitrary<Hashable> = fc
  .tuple(
    contentArb,
    fc.integer({ min: 0, max: 63 }),
    fc.bigInt({ min: 1n, max: 2n ** 63n - 1n }).map(String),
    fc.constantFrom('k1', 'k2', 'gone'),
    fc.option(hexHash, { nil: null }),
  )
  .map(([content, lane, laneSeq, keyId, prevHash]) => ({
    ...content,
    lane,
    laneSeq,
    keyId,
    prevHash,
  }));

describe('ChainHashWorker', () => {
  let sut: ChainHashWorker;

  beforeAll(() => {
    sut = new ChainHashWorker();
  });

  afterAll(() => sut.close());

  it('should compute chainHash of every event, and nothing for an event without a key', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(eventArb, { maxLength: 40 }), async (events) => {
        const digests = await sut.digests(chainHashBatch(events, keyFor));
        expect(digests).toEqual(
          events.map((e) => {
            const key = keyFor(e.keyId);
            return key ? chainHash(key, e.prevHash, e) : '';
          }),
        );
      }),
      { numRuns: 50 },
    );
  });

  it('should answer batches sent together each with its own digests', async () => {
    const batches = fc.sample(fc.array(eventArb, { minLength: 1, maxLength: 20 }), 8);
    const answers = await Promise.all(
      batches.map((events) => sut.digests(chainHashBatch(events, keyFor))),
    );
    answers.forEach((digests, i) => {
      expect(digests).toEqual(
        batches[i].map((e) => (keyFor(e.keyId) ? chainHash(keyFor(e.keyId)!, e.prevHash, e) : '')),
      );
    });
  });

  it('should reject batches once closed rather than leave them waiting', async () => {
    const closed = new ChainHashWorker();
    await closed.close();
    const [event] = fc.sample(eventArb, 1);
    await expect(closed.digests(chainHashBatch([event], keyFor))).rejects.toThrow(/closed/);
  });
});

describe('chainHashBatch', () => {
  it('should send each key once, and mark events whose key is not held', () => {
    const [a, b, c] = fc.sample(eventArb, 3);
    const sut = chainHashBatch(
      [
        { ...a, keyId: 'k2' },
        { ...b, keyId: 'gone' },
        { ...c, keyId: 'k2' },
      ],
      keyFor,
    );
    expect(sut.keys).toEqual([KEYS.get('k2')]);
    expect(sut.keyIndexes).toEqual([0, -1, 0]);
    expect(sut.texts[1]).toBe('');
  });
});

describe('ChainHashOffload', () => {
  const events = fc.sample(eventArb, 4).map((e) => ({ ...e, keyId: 'k1' }));

  it('should hash batches of its size on the worker and leave smaller ones to the caller', async () => {
    const onFailure = jest.fn();
    const sut = new ChainHashOffload(3, keyFor, onFailure);
    try {
      expect(await sut.digests(events.slice(0, 2))).toBeUndefined();
      expect(await sut.digests(events)).toEqual(
        events.map((e) => chainHash(keyFor('k1')!, e.prevHash, e)),
      );
    } finally {
      await sut.close();
    }
    expect(onFailure).not.toHaveBeenCalled();
  });

  it('should say once that the worker failed and leave every later batch to the caller', async () => {
    const onFailure = jest.fn();
    const failing = (): Buffer => {
      throw new Error('boom');
    };
    const sut = new ChainHashOffload(1, failing, onFailure);
    try {
      expect(await sut.digests(events)).toBeUndefined();
      expect(await sut.digests(events)).toBeUndefined();
    } finally {
      await sut.close();
    }
    expect(onFailure).toHaveBeenCalledTimes(1);
    expect(onFailure).toHaveBeenCalledWith(new Error('boom'));
  });

  it('should leave batches to the caller once closed, without calling that a failure', async () => {
    const onFailure = jest.fn();
    const sut = new ChainHashOffload(1, keyFor, onFailure);
    expect(await sut.digests(events)).toHaveLength(events.length);
    await sut.close();
    expect(await sut.digests(events)).toBeUndefined();
    expect(onFailure).not.toHaveBeenCalled();
  });
});
