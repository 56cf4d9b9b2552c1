import { QueryFailedError } from 'typeorm';
import { loggableError } from './loggable-error';

describe('loggableError', () => {
  it('should keep the SQL of a failed query but never its parameters', () => {
    const driverError = Object.assign(new Error("Duplicate entry 'x'"), { code: 'ER_DUP_ENTRY' });
    const sut = loggableError(
      new QueryFailedError(
        'INSERT INTO credential_versions (ciphertext) VALUES (?)',
        ['canary-ciphertext'],
        driverError,
      ),
    );
    expect(sut).toMatchObject({
      type: 'QueryFailedError',
      code: 'ER_DUP_ENTRY',
      query: expect.stringContaining('INSERT'),
    });
    expect(JSON.stringify(sut)).not.toContain('canary-ciphertext');
  });

  it('should describe a thrown non-error', () => {
    expect(loggableError('boom')).toEqual({ type: 'string', message: 'boom' });
  });
});
