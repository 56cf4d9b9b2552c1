import fc from 'fast-check';
import { canonicalJson } from './canonical-json';

/** A small seeded generator, so a shuffle is reproduced (and shrunk) from its seed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A deep copy of `value` whose objects have their keys inserted in another order. */
function shuffleKeys(value: unknown, next: () => number): unknown {
  if (Array.isArray(value)) return value.map((item) => shuffleKeys(item, next));
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value);
  for (let i = entries.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [entries[i], entries[j]] = [entries[j], entries[i]];
  }
  return Object.fromEntries(entries.map(([key, inner]) => [key, shuffleKeys(inner, next)]));
}

function reverseKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reverseKeys);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value)
      .reverse()
      .map(([key, inner]) => [key, reverseKeys(inner)]),
  );
}

/** JSON has no negative zero (`JSON.stringify(-0)` is `0`), so a round trip cannot keep it. */
function withoutNegativeZero(value: unknown): unknown {
  if (Object.is(value, -0)) return 0;
  if (Array.isArray(value)) return value.map(withoutNegativeZero);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, inner]) => [key, withoutNegativeZero(inner)]),
  );
}

const objectArb = fc.dictionary(fc.string({ maxLength: 10 }), fc.jsonValue({ maxDepth: 4 }), {
  maxKeys: 8,
});

describe('canonicalJson', () => {
  it('should sort object keys at every depth', () => {
    const sut = canonicalJson({ b: 1, a: { d: [{ z: 1, y: 2 }], c: null } });
    expect(sut).toBe('{"a":{"c":null,"d":[{"y":2,"z":1}]},"b":1}');
  });

  it('should give the same text whatever the key order, at any depth', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 5 }), fc.integer(), (value, seed) => {
        const sut = canonicalJson(value);
        expect(canonicalJson(shuffleKeys(value, random(seed)))).toBe(sut);
        expect(canonicalJson(reverseKeys(value))).toBe(sut);
      }),
    );
  });

  it('should give the same text for an object and any key-shuffled copy of it', () => {
    fc.assert(
      fc.property(objectArb, fc.integer(), (value, seed) => {
        expect(canonicalJson(shuffleKeys(value, random(seed)))).toBe(canonicalJson(value));
      }),
    );
  });

  it('should keep the order of arrays', () => {
    expect(canonicalJson([3, 1, 2])).toBe('[3,1,2]');
    fc.assert(
      fc.property(fc.array(fc.jsonValue({ maxDepth: 3 }), { maxLength: 10 }), (items) => {
        expect(canonicalJson(items)).toBe(
          `[${items.map((item) => canonicalJson(item)).join(',')}]`,
        );
      }),
    );
  });

  it('should tell apart arrays that differ only in order', () => {
    fc.assert(
      fc.property(
        fc.array(fc.jsonValue({ maxDepth: 2 }), { minLength: 2, maxLength: 8 }),
        (items) => {
          const reversed = [...items].reverse();
          fc.pre(items.some((item, i) => canonicalJson(item) !== canonicalJson(reversed[i])));
          expect(canonicalJson(reversed)).not.toBe(canonicalJson(items));
        },
      ),
    );
  });

  it('should parse back to an equal value', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 5 }).map(withoutNegativeZero), (value) => {
        expect(JSON.parse(canonicalJson(value))).toEqual(value);
      }),
    );
  });

  it('should be the text of the value it parses back to', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 5 }), (value) => {
        const sut = canonicalJson(value);
        expect(canonicalJson(JSON.parse(sut))).toBe(sut);
      }),
    );
  });

  it('should write dates as ISO text and leave out undefined fields, as JSON does', () => {
    expect(canonicalJson({ when: new Date(0), gone: undefined, list: [undefined] })).toBe(
      '{"list":[null],"when":"1970-01-01T00:00:00.000Z"}',
    );
  });

  it('should not change the value it is given', () => {
    fc.assert(
      fc.property(objectArb, (value) => {
        const keysBefore = JSON.stringify(value);
        canonicalJson(value);
        expect(JSON.stringify(value)).toBe(keysBefore);
      }),
    );
  });
});

describe('canonicalJson key order', () => {
  it('should sort integer-like keys as strings, like any other key', () => {
    expect(canonicalJson({ 10: 'a', 2: 'b', x: 'c' })).toBe('{"10":"a","2":"b","x":"c"}');
  });
});
