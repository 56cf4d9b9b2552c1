import { isVaultUrl, rewriteListLine } from './vault-http';

describe('rewriteListLine', () => {
  it('should turn a LIST request line into GET with list=true, keeping the rest', () => {
    const chunk = Buffer.from('LIST /v1/secret/metadata/acme HTTP/1.1\r\nHost: a\r\n\r\n');
    expect(rewriteListLine(chunk).toString()).toBe(
      'GET /v1/secret/metadata/acme?list=true HTTP/1.1\r\nHost: a\r\n\r\n',
    );
  });

  it('should add list=true to an existing query string', () => {
    const chunk = Buffer.from('LIST /v1/secret/metadata/?x=1 HTTP/1.1\r\n\r\n');
    expect(rewriteListLine(chunk).toString()).toBe(
      'GET /v1/secret/metadata/?x=1&list=true HTTP/1.1\r\n\r\n',
    );
  });

  it.each([
    'GET /v1/secret/metadata/acme HTTP/1.1\r\n\r\n',
    'LIST /api/v1/credentials HTTP/1.1\r\n\r\n',
    'body that mentions LIST /v1/x HTTP/1.1\r\n',
  ])('should leave anything else as it is: %j', (text) => {
    const chunk = Buffer.from(text);
    expect(rewriteListLine(chunk)).toBe(chunk);
  });
});

describe('isVaultUrl', () => {
  it('should know the /v1 routes from the others', () => {
    expect(isVaultUrl('/v1/sys/health')).toBe(true);
    expect(isVaultUrl('/v1')).toBe(true);
    expect(isVaultUrl('/api/v1/credentials')).toBe(false);
    expect(isVaultUrl('/v10/x')).toBe(false);
  });
});
