import { createPublicKey, randomBytes, verify } from 'node:crypto';
import fc from 'fast-check';
import { dateArb, hexHash } from '../../../test/helpers/audit-chain-arbitraries';
import { derivePurposeKey } from '../../crypto/purpose-keys';
import { CheckpointLane, signCheckpoint } from './audit-chain';
import {
  CHECKPOINT_MESSAGE_TAG,
  checkpointKeyPair,
  checkpointMessage,
  CheckpointStatement,
  checkpointSignatureProblem,
  CheckpointVerifyKeys,
  publicKeyPem,
  signCheckpointEd25519,
} from './checkpoint-signature';

const MASTER_KEY = Buffer.from(
  '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f',
  'hex',
);
/** The public key of MASTER_KEY's pair (JWK x), computed once by hand with hkdfSync and PKCS#8. */
const PINNED_PUBLIC_KEY_X = 'YIHXda2crZnaZYRkmBZN663SD_5m5iY_fQk3pCyJUHk';
const PAIR = checkpointKeyPair(derivePurposeKey(MASTER_KEY, 'audit-checkpoint'));
const CHAIN_KEY = derivePurposeKey(MASTER_KEY, 'audit-chain');
const KEYS: CheckpointVerifyKeys = {
  publicKey: (keyId) => (keyId === 'k1' ? PAIR.publicKey : undefined),
  chainKey: (keyId) => (keyId === 'k1' ? CHAIN_KEY : undefined),
};

const seqArb = fc.bigInt({ min: 1n, max: 2n ** 63n - 1n }).map(String);
const lanesArb: fc.Arbitrary<CheckpointLane[]> = fc.uniqueArray(
  fc.oneof(
    fc.record({
      lane: fc.integer({ min: 0, max: 63 }),
      laneSeq: seqArb,
      seq: seqArb,
      hash: hexHash,
    }),
    fc.record({
      lane: fc.integer({ min: 0, max: 63 }),
      laneSeq: fc.constant('0'),
      seq: fc.constant(null),
      hash: fc.constant(null),
    }),
  ),
  { selector: (lane) => lane.lane, minLength: 1, maxLength: 8 },
);
const statementArb: fc.Arbitrary<Omit<CheckpointStatement, 'algorithm' | 'signature'>> = fc.record({
  id: seqArb,
  createdAt: dateArb,
  headSeq: fc.option(seqArb, { nil: null }),
  lanes: lanesArb,
  keyId: fc.constant('k1'),
});

function signed(
  statement: Omit<CheckpointStatement, 'algorithm' | 'signature'>,
): CheckpointStatement {
  return {
    ...statement,
    algorithm: 'Ed25519',
    signature: signCheckpointEd25519(
      PAIR.privateKey,
      statement.createdAt,
      statement.headSeq,
      statement.lanes,
    ),
  };
}

type Tamper = (statement: CheckpointStatement) => CheckpointStatement;

/** Every way a copy of a checkpoint can be altered; each must break its signature. */
const TAMPER: [string, fc.Arbitrary<Tamper>][] = [
  [
    'time',
    fc.integer({ min: 1, max: 10 ** 9 }).map((ms) => (s) => ({
      ...s,
      createdAt: new Date(s.createdAt.getTime() - ms),
    })),
  ],
  [
    'head seq',
    fc.constant((s: CheckpointStatement) => ({
      ...s,
      headSeq: s.headSeq === null ? '1' : `${s.headSeq}0`,
    })),
  ],
  [
    'lane_seq (as if the copy were rewound to a cut tail)',
    fc.nat().map((n) => (s) => {
      const lanes = s.lanes.map((lane) => ({ ...lane }));
      const lane = lanes[n % lanes.length];
      lane.laneSeq = lane.laneSeq === '0' ? '1' : String(BigInt(lane.laneSeq) - 1n);
      return { ...s, lanes };
    }),
  ],
  [
    'lane hash',
    fc.tuple(fc.nat(), hexHash).map(([n, hash]) => (s) => {
      const lanes = s.lanes.map((lane) => ({ ...lane }));
      const lane = lanes[n % lanes.length];
      lane.hash = lane.hash === hash ? null : hash;
      return { ...s, lanes };
    }),
  ],
  [
    'set of lanes',
    fc.constant((s: CheckpointStatement) => ({
      ...s,
      lanes:
        s.lanes.length > 1
          ? s.lanes.slice(1)
          : [...s.lanes, { lane: 64, laneSeq: '0', seq: null, hash: null }],
    })),
  ],
  [
    'signature bit',
    fc.nat({ max: 63 * 8 }).map((bit) => (s) => {
      const bytes = Buffer.from(s.signature, 'base64');
      bytes[bit >> 3] ^= 1 << (bit & 7);
      return { ...s, signature: bytes.toString('base64') };
    }),
  ],
  [
    'algorithm',
    fc.constant((s: CheckpointStatement) => ({ ...s, algorithm: 'HMAC-SHA256' as const })),
  ],
];

describe('checkpointKeyPair', () => {
  it('should derive the same key pair from the same master key, every time', () => {
    const again = checkpointKeyPair(derivePurposeKey(Buffer.from(MASTER_KEY), 'audit-checkpoint'));
    expect(publicKeyPem(again.publicKey)).toBe(publicKeyPem(PAIR.publicKey));
    // Pinned: a change here would orphan every checkpoint already signed and published.
    expect(PAIR.publicKey.export({ format: 'jwk' }).x).toBe(PINNED_PUBLIC_KEY_X);
  });

  it('should derive a different key pair from another master key', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (bytes) => {
        const master = Buffer.from(bytes);
        fc.pre(!master.equals(MASTER_KEY));
        const other = checkpointKeyPair(derivePurposeKey(master, 'audit-checkpoint'));
        expect(publicKeyPem(other.publicKey)).not.toBe(publicKeyPem(PAIR.publicKey));
      }),
      { numRuns: 20 },
    );
  });

  it('should make Ed25519 keys whose public half is published as SPKI PEM', () => {
    expect(PAIR.privateKey.asymmetricKeyType).toBe('ed25519');
    const pem = publicKeyPem(PAIR.publicKey);
    expect(pem).toMatch(
      /^-----BEGIN PUBLIC KEY-----\n[A-Za-z0-9+/=\n]+-----END PUBLIC KEY-----\n$/,
    );
    expect(createPublicKey(pem).equals(PAIR.publicKey)).toBe(true);
  });

  it.each([0, 31, 33])('should refuse a seed of %i bytes', (length) => {
    expect(() => checkpointKeyPair(Buffer.alloc(length))).toThrow('32 bytes');
  });
});

describe('checkpointMessage', () => {
  it('should be the JSON array the README recipe rebuilds from the NDJSON line', () => {
    fc.assert(
      fc.property(statementArb, (statement) => {
        // What a sink line carries, and the recipe, exactly as the README writes them.
        const line = JSON.parse(
          JSON.stringify({ ...statement, createdAt: statement.createdAt.toISOString() }),
        ) as { createdAt: string; headSeq: string | null; lanes: CheckpointLane[] };
        const rows = [...line.lanes]
          .sort((a, b) => a.lane - b.lane)
          .map((l) => [l.lane, l.laneSeq, l.seq, l.hash]);
        const recipe = JSON.stringify([
          'custos audit checkpoint v2',
          line.createdAt,
          line.headSeq,
          rows,
        ]);
        expect(
          checkpointMessage(statement.createdAt, statement.headSeq, statement.lanes).toString(),
        ).toBe(recipe);
      }),
    );
    expect(CHECKPOINT_MESSAGE_TAG).toBe('custos audit checkpoint v2');
  });
});

describe('checkpointSignatureProblem', () => {
  it('should accept what signCheckpointEd25519 signed, with nothing but the public key', () => {
    fc.assert(
      fc.property(statementArb, (statement) => {
        const sut = signed(statement);
        expect(Buffer.from(sut.signature, 'base64')).toHaveLength(64);
        expect(checkpointSignatureProblem(sut, KEYS)).toBeNull();
        expect(
          verify(
            null,
            checkpointMessage(sut.createdAt, sut.headSeq, sut.lanes),
            createPublicKey(publicKeyPem(PAIR.publicKey)),
            Buffer.from(sut.signature, 'base64'),
          ),
        ).toBe(true);
      }),
    );
  });

  it('should accept the same lanes in any order', () => {
    fc.assert(
      fc.property(statementArb, (statement) => {
        const sut = signed(statement);
        expect(
          checkpointSignatureProblem({ ...sut, lanes: [...sut.lanes].reverse() }, KEYS),
        ).toBeNull();
      }),
    );
  });

  it.each(TAMPER)('should reject a checkpoint with a changed %s', (_field, tamperArb) => {
    fc.assert(
      fc.property(statementArb, tamperArb, (statement, tamper) => {
        expect(checkpointSignatureProblem(tamper(signed(statement)), KEYS)).not.toBeNull();
      }),
    );
  });

  it('should reject a checkpoint signed by another key pair under the same key id', () => {
    const forger = checkpointKeyPair(randomBytes(32));
    fc.assert(
      fc.property(statementArb, (statement) => {
        const forged: CheckpointStatement = {
          ...statement,
          algorithm: 'Ed25519',
          signature: signCheckpointEd25519(
            forger.privateKey,
            statement.createdAt,
            statement.headSeq,
            statement.lanes,
          ),
        };
        expect(checkpointSignatureProblem(forged, KEYS)).toBe('invalid signature');
      }),
    );
  });

  it.each([
    ['empty', ''],
    ['short', Buffer.alloc(63).toString('base64')],
    ['long', Buffer.alloc(65).toString('base64')],
    ['not base64', '!!!!'],
  ])('should reject a signature that is %s without throwing', (_case, signature) => {
    const statement = signed(fc.sample(statementArb, 1)[0]);
    expect(checkpointSignatureProblem({ ...statement, signature }, KEYS)).toBe('invalid signature');
  });

  it('should name a key id it has no public key for', () => {
    const statement = signed(fc.sample(statementArb, 1)[0]);
    expect(checkpointSignatureProblem({ ...statement, keyId: 'k9' }, KEYS)).toBe(
      'no public key for key id "k9"',
    );
  });

  describe('legacy HMAC checkpoints', () => {
    const hmacSigned = (
      statement: Omit<CheckpointStatement, 'algorithm' | 'signature'>,
    ): CheckpointStatement => ({
      ...statement,
      algorithm: 'HMAC-SHA256',
      signature: signCheckpoint(
        CHAIN_KEY,
        statement.createdAt,
        statement.headSeq,
        JSON.stringify(
          [...statement.lanes]
            .sort((a, b) => a.lane - b.lane)
            .map((l) => [l.lane, l.laneSeq, l.seq, l.hash]),
        ),
      ),
    });

    it('should still accept checkpoints stored before Ed25519, with the audit key', () => {
      fc.assert(
        fc.property(statementArb, (statement) => {
          expect(checkpointSignatureProblem(hmacSigned(statement), KEYS)).toBeNull();
        }),
      );
    });

    it.each(TAMPER.filter(([field]) => !/algorithm|signature/.test(field)))(
      'should reject one with a changed %s',
      (_field, tamperArb) => {
        fc.assert(
          fc.property(statementArb, tamperArb, (statement, tamper) => {
            expect(checkpointSignatureProblem(tamper(hmacSigned(statement)), KEYS)).toBe(
              'invalid signature',
            );
          }),
        );
      },
    );

    it('should not take an HMAC signature as an Ed25519 one, nor the other way round', () => {
      const statement = fc.sample(statementArb, 1)[0];
      const hmac = hmacSigned(statement);
      const ed25519 = signed(statement);
      expect(checkpointSignatureProblem({ ...hmac, algorithm: 'Ed25519' }, KEYS)).not.toBeNull();
      expect(
        checkpointSignatureProblem({ ...ed25519, algorithm: 'HMAC-SHA256' }, KEYS),
      ).not.toBeNull();
    });

    it('should name a key id it has no audit key for', () => {
      const statement = hmacSigned(fc.sample(statementArb, 1)[0]);
      expect(checkpointSignatureProblem({ ...statement, keyId: 'k9' }, KEYS)).toBe(
        'no audit key for key id "k9"',
      );
    });
  });
});
