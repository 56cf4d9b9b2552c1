import { AuditRequestContext, outcomeForStatus } from './audit-context';

describe('outcomeForStatus', () => {
  it.each([200, 201, 204, 302])('should call %i a success', (status) => {
    expect(outcomeForStatus(status)).toBe('success');
  });

  it.each([401, 403, 429])('should call %i denied', (status) => {
    expect(outcomeForStatus(status)).toBe('denied');
  });

  it.each([400, 404, 409, 412, 413])('should call %i invalid', (status) => {
    expect(outcomeForStatus(status)).toBe('invalid');
  });

  it.each([500, 503])('should call %i an error', (status) => {
    expect(outcomeForStatus(status)).toBe('error');
  });
});

describe('AuditRequestContext', () => {
  it('should start anonymous and not yet recorded', () => {
    const sut = new AuditRequestContext('req-1', '10.0.0.1', 'curl/8');
    expect(sut).toMatchObject({
      requestId: 'req-1',
      ip: '10.0.0.1',
      userAgent: 'curl/8',
      actor: { type: 'anonymous' },
      recorded: false,
      captureAttempted: false,
    });
  });
});
