import { customMetadataOf, vaultEnvelope, vaultError, vaultTime } from './vault-envelope';

describe('vaultEnvelope', () => {
  it('should wrap data as Vault does, with no lease', () => {
    expect(vaultEnvelope('r1', { a: 1 }, { mountType: 'kv' })).toEqual({
      request_id: 'r1',
      lease_id: '',
      renewable: false,
      lease_duration: 0,
      data: { a: 1 },
      wrap_info: null,
      warnings: null,
      auth: null,
      mount_type: 'kv',
    });
  });

  it('should carry an auth block for logins', () => {
    expect(vaultEnvelope('r1', null, { auth: { client_token: 't' } })).toEqual(
      expect.objectContaining({ data: null, auth: { client_token: 't' } }),
    );
  });
});

describe('vaultError', () => {
  it.each([
    [401, 'Invalid API key', 403, ['permission denied']],
    [403, "This needs the 'write' capability", 403, ['permission denied']],
    [404, 'Credential not found', 404, []],
    [
      412,
      'If-Match is 1 but the current version is 2',
      400,
      ['check-and-set parameter did not match the current version'],
    ],
    [409, 'A credential with this path exists', 400, ['A credential with this path exists']],
    [400, 'Validation failed: data', 400, ['Validation failed: data']],
    [429, 'Too Many Requests', 429, ['Too Many Requests']],
    [503, 'Custos is sealed: no master key', 503, ['Vault is sealed']],
    [500, 'Internal server error: SELECT …', 500, ['internal error']],
  ])('should answer a Custos %i as Vault does', (statusCode, message, status, errors) => {
    expect(vaultError({ statusCode, message })).toEqual({ status, errors });
  });
});

describe('vaultTime', () => {
  it('should write a time in ISO form and none as an empty string', () => {
    expect(vaultTime(new Date('2026-01-01T00:00:00Z'))).toBe('2026-01-01T00:00:00.000Z');
    expect(vaultTime(null)).toBe('');
  });
});

describe('customMetadataOf', () => {
  it('should keep the string values only, and answer null when none is left', () => {
    expect(customMetadataOf({ owner: 'ops', port: 3306, nested: { a: 'b' } })).toEqual({
      owner: 'ops',
    });
    expect(customMetadataOf({ port: 3306 })).toBeNull();
    expect(customMetadataOf(null)).toBeNull();
  });
});
