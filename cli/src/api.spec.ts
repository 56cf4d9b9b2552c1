import { Api, encodePath, normalizeAddr } from './api';
import { shellQuote } from './io';

describe('api helpers', () => {
  it('should take an http(s) address without trailing slashes, and refuse anything else', () => {
    expect(normalizeAddr(undefined)).toBe('http://127.0.0.1:3000');
    expect(normalizeAddr('https://vault.example:8443/')).toBe('https://vault.example:8443');
    expect(() => normalizeAddr('vault.example')).toThrow(/not a server address/);
    expect(() => normalizeAddr('ftp://vault.example')).toThrow(/not an http\(s\) address/);
  });

  it('should encode each path segment and keep the slashes', () => {
    expect(encodePath('acme/prod/db password')).toBe('acme/prod/db%20password');
  });

  it('should pick the API key before a token, and say why it cannot authenticate otherwise', async () => {
    const both = await Api.fromEnvironment(undefined, {
      CUSTOS_API_KEY: 'cus_k',
      CUSTOS_TOKEN: 't',
      XDG_CONFIG_HOME: '/nonexistent',
    });
    expect(await both.authHeaders()).toEqual({ 'x-api-key': 'cus_k' });
    const token = await Api.fromEnvironment('http://h:1', {
      CUSTOS_TOKEN: 't',
      XDG_CONFIG_HOME: '/nonexistent',
    });
    expect(token.addr).toBe('http://h:1');
    expect(await token.authHeaders()).toEqual({ authorization: 'Bearer t' });
    const none = await Api.fromEnvironment(undefined, { XDG_CONFIG_HOME: '/nonexistent' });
    await expect(none.authHeaders()).rejects.toThrow(/^not logged in: run `custos login`/);
  });

  it('should quote a value for a shell only when it must', () => {
    expect(shellQuote('plain-Value_1.2')).toBe('plain-Value_1.2');
    expect(shellQuote("it's $HOME")).toBe(`'it'\\''s $HOME'`);
    expect(shellQuote('')).toBe("''");
  });
});
