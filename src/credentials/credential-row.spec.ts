import { getMetadataArgsStorage } from 'typeorm';
import { CREDENTIAL_COLUMNS, credentialFromRow, credentialSelect } from './credential-row';
import { Credential } from './entities/credential.entity';

describe('credential rows in plain SQL', () => {
  it('should select every column of the entity but the decoy flag, under its property name', () => {
    const columns = getMetadataArgsStorage()
      .columns.filter((column) => column.target === Credential && column.propertyName !== 'decoy')
      .map((column) => [column.propertyName, column.options.name ?? column.propertyName]);

    expect(Object.entries(CREDENTIAL_COLUMNS).sort()).toEqual(columns.sort());
    expect(credentialSelect('c')).toContain('c.secret_info AS secretInfo');
  });

  it('should convert a row as TypeORM would', () => {
    const row = {
      ...Object.fromEntries(Object.keys(CREDENTIAL_COLUMNS).map((key) => [key, null])),
      id: 'c-1',
      path: 'acme/db',
      port: '5432',
      metadata: '{"team":"ops"}',
      secretInfo: Buffer.from('{"kind":"rsa"}'),
      tags: 'a,b',
      currentVersion: '2',
      lastVersion: 3,
      rowVersion: 4,
      createdAt: '2026-01-02 03:04:05.678',
      updatedAt: new Date('2026-01-03T00:00:00Z'),
    } as Parameters<typeof credentialFromRow>[0];

    const credential = credentialFromRow(row);

    expect(credential).toBeInstanceOf(Credential);
    expect(credential).toMatchObject({
      port: 5432,
      metadata: { team: 'ops' },
      secretInfo: { kind: 'rsa' },
      currentVersion: 2,
      createdAt: new Date('2026-01-02T03:04:05.678Z'),
      updatedAt: new Date('2026-01-03T00:00:00Z'),
      expiresAt: null,
      description: null,
    });
  });
});
