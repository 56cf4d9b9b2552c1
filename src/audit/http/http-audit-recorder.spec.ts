import { defaultAction } from './http-audit-recorder';

describe('defaultAction', () => {
  it('should name an action after the route without its parameters, and the method', () => {
    expect(defaultAction('GET', '/api/v1/credentials/:id/versions')).toBe(
      'credentials.versions.read',
    );
  });

  it.each([
    ['GET', 'read'],
    ['HEAD', 'read'],
    ['POST', 'create'],
    ['PUT', 'update'],
    ['PATCH', 'update'],
    ['DELETE', 'delete'],
  ])('should turn %s into %s', (method, verb) => {
    expect(defaultAction(method, '/api/v1/credentials/:id')).toBe(`credentials.${verb}`);
  });

  it('should use the lower-cased method when it has no verb', () => {
    expect(defaultAction('OPTIONS', '/api/v1/credentials')).toBe('credentials.options');
  });

  it('should call a request without a route unmatched', () => {
    expect(defaultAction('GET', undefined)).toBe('http.unmatched');
    expect(defaultAction('POST', '')).toBe('http.unmatched');
  });

  it('should drop wildcard segments', () => {
    expect(defaultAction('GET', '/api/v1/files/*')).toBe('files.read');
    expect(defaultAction('GET', '/static/*path')).toBe('static.read');
  });

  it('should keep routes outside the API prefix and clean their segments', () => {
    expect(defaultAction('GET', '/metrics')).toBe('metrics.read');
    expect(defaultAction('POST', '/api/v1/Auth/Token-Refresh/')).toBe('auth.token-refresh.create');
  });
});
