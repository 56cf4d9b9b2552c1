import { isOutboundUrl } from './is-outbound-url';

describe('isOutboundUrl', () => {
  it.each([
    'https://hooks.example.com/custos',
    'http://hooks.example.com:8080/x?y=1',
    'https://2130706433/',
    'https://[::1]:8443/',
  ])('should accept %s (the guard judges its address)', (url) => {
    expect(isOutboundUrl(url)).toBe(true);
  });

  it.each([
    'file:///etc/passwd',
    'gopher://hooks.example.com/',
    'ftp://hooks.example.com/',
    'hooks.example.com/custos',
    '/relative',
    `https://hooks.example.com/${'a'.repeat(2048)}`,
    42,
  ])('should refuse %j', (url) => {
    expect(isOutboundUrl(url)).toBe(false);
  });
});
