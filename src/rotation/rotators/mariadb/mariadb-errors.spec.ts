import { PermanentRotationError } from '../rotator';
import { ER, isLoginRefused, MariadbTargetError, targetFailure } from './mariadb-errors';

/** A mysql2 error as the driver throws it: with the statement that failed. */
function driverError(errno: number | undefined, code: string, sqlMessage?: string): Error {
  return Object.assign(new Error(sqlMessage ?? code), {
    errno,
    code,
    sqlMessage,
    sql: "ALTER USER 'app_b'@'%' IDENTIFIED BY 'the-secret'",
  });
}

describe('targetFailure', () => {
  it.each([
    [ER.SPECIFIC_ACCESS_DENIED, 'ER_SPECIFIC_ACCESS_DENIED_ERROR', /lacks a privilege/],
    [ER.TABLEACCESS_DENIED, 'ER_TABLEACCESS_DENIED_ERROR', /lacks a privilege/],
    [ER.CANNOT_USER, 'ER_CANNOT_USER', /does not exist/],
    [ER.NOT_VALID_PASSWORD, 'ER_NOT_VALID_PASSWORD', /password policy/],
  ])('should fail for good on errno %p', (errno, code, message) => {
    const failure = targetFailure(driverError(errno, code), 'setting the password of app_b@%');

    expect(failure).toBeInstanceOf(PermanentRotationError);
    expect(failure.message).toMatch(message);
    expect(failure.message).toContain(code);
  });

  it('should let the engine retry a network failure', () => {
    const failure = targetFailure(driverError(undefined, 'ECONNREFUSED'), 'connecting to db:3306');

    expect(failure).toBeInstanceOf(MariadbTargetError);
    expect(failure).not.toBeInstanceOf(PermanentRotationError);
    expect(failure.message).toBe('connecting to db:3306 failed (ECONNREFUSED)');
  });

  it('should never carry the statement or, unless asked, the server text', () => {
    const error = driverError(1064, 'ER_PARSE_ERROR', "near 'the-secret' at line 1");

    const failure = targetFailure(error, 'setting the password of app_b@%');

    expect(JSON.stringify({ ...failure, message: failure.message })).not.toContain('the-secret');
    expect(failure).not.toHaveProperty('sql');
  });

  it('should keep the server text where the statement held no secret', () => {
    const error = driverError(ER.TABLEACCESS_DENIED, 'X', 'SELECT command denied for mysql.user');

    expect(targetFailure(error, 'looking the users up', true).message).toContain(
      'SELECT command denied',
    );
  });

  it('should pass its own errors through unchanged', () => {
    const permanent = new PermanentRotationError('no such user');

    expect(targetFailure(permanent, 'x')).toBe(permanent);
  });
});

describe('isLoginRefused', () => {
  it('should count a wrong password and a locked account as refusals, nothing else', () => {
    expect(isLoginRefused(driverError(ER.ACCESS_DENIED, 'ER_ACCESS_DENIED_ERROR'))).toBe(true);
    expect(isLoginRefused(driverError(ER.ACCOUNT_LOCKED, 'ER_ACCOUNT_LOCKED'))).toBe(true);
    expect(isLoginRefused(driverError(undefined, 'ETIMEDOUT'))).toBe(false);
  });
});
