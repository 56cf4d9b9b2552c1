import { LockedVersion, planBackfill } from './fingerprint-backfill-plan';

const held = (credentialId: string, version: number): LockedVersion => ({
  credentialId,
  version,
  ciphertext: Buffer.from('sealed'),
  iv: 'iv',
  tag: 'tag',
  wrappedDek: 'dek',
  kekId: 'k1',
});

describe('planBackfill', () => {
  it('should open the listed versions whose value is still held', () => {
    const sut = planBackfill(
      [
        { credentialId: 'a', version: 1 },
        { credentialId: 'a', version: 2 },
      ],
      [held('a', 1), held('a', 2)],
    );

    expect(sut).toEqual({ open: [held('a', 1), held('a', 2)], gone: [] });
  });

  it('should give no fingerprint back to a version pruned or wiped since it was listed', () => {
    const wiped = { ...held('b', 1), ciphertext: null, iv: null, tag: null, wrappedDek: null };

    const sut = planBackfill(
      [
        { credentialId: 'a', version: 1 },
        { credentialId: 'b', version: 1 },
        { credentialId: 'c', version: 3 },
      ],
      [wiped, held('c', 3)],
    );

    expect(sut.open).toEqual([held('c', 3)]);
    expect(sut.gone).toEqual([
      { credentialId: 'a', version: 1 },
      { credentialId: 'b', version: 1 },
    ]);
  });

  it('should match a locked row whose version the driver returned as a string', () => {
    const row = { ...held('a', 7), version: '7' as unknown as number };

    const sut = planBackfill([{ credentialId: 'a', version: 7 }], [row]);

    expect(sut).toEqual({ open: [row], gone: [] });
  });

  it('should not open a version of another credential with the same number', () => {
    const sut = planBackfill([{ credentialId: 'a', version: 1 }], [held('b', 1)]);

    expect(sut).toEqual({ open: [], gone: [{ credentialId: 'a', version: 1 }] });
  });
});
