import { QueryFailedError } from 'typeorm';
import { isDatabaseOutage, isDatabaseUnreachable, retryReasonOf } from './database-failure';

/** A failed query as TypeORM hands it over: mysql2's error as `driverError`. */
function queryFailed(errno: number, code: string, message = 'failed'): QueryFailedError {
  return new QueryFailedError('SELECT 1', [], Object.assign(new Error(message), { errno, code }));
}

function clientError(code: string): Error {
  return Object.assign(new Error(code), { code, fatal: true });
}

describe('retryReasonOf', () => {
  it.each([
    [1213, 'ER_LOCK_DEADLOCK', 'deadlock'],
    [1205, 'ER_LOCK_WAIT_TIMEOUT', 'lock_wait_timeout'],
    [1047, 'ER_UNKNOWN_COM_ERROR', 'node_not_ready'],
    [1180, 'ER_ERROR_DURING_COMMIT', 'commit_failed'],
    [1317, 'ER_QUERY_INTERRUPTED', 'interrupted'],
    [1927, 'ER_CONNECTION_KILLED', 'connection_lost'],
  ])('should retry errno %i (%s) as %s', (errno, code, reason) => {
    expect(retryReasonOf(queryFailed(errno, code))).toBe(reason);
  });

  it.each(['PROTOCOL_CONNECTION_LOST', 'ECONNRESET', 'EPIPE'])(
    'should retry a connection lost mid-transaction (%s)',
    (code) => {
      expect(retryReasonOf(clientError(code))).toBe('connection_lost');
      expect(retryReasonOf(new QueryFailedError('COMMIT', [], clientError(code)))).toBe(
        'connection_lost',
      );
    },
  );

  it('should recognise a deadlock kept as the cause of a domain-worded error', () => {
    const wrapped = new Error('the head of audit lane 3 is missing', {
      cause: queryFailed(1213, 'ER_LOCK_DEADLOCK'),
    });
    expect(retryReasonOf(wrapped)).toBe('deadlock');
  });

  it.each([
    [1062, 'ER_DUP_ENTRY'],
    [1064, 'ER_PARSE_ERROR'],
    [1146, 'ER_NO_SUCH_TABLE'],
    [1452, 'ER_NO_REFERENCED_ROW_2'],
    [1406, 'ER_DATA_TOO_LONG'],
    [1644, 'ER_SIGNAL_EXCEPTION'],
  ])('should not retry errno %i (%s), which is an answer or a bug', (errno, code) => {
    expect(retryReasonOf(queryFailed(errno, code))).toBeUndefined();
    expect(isDatabaseOutage(queryFailed(errno, code))).toBe(false);
  });

  it('should not retry plain errors, strings or nothing', () => {
    expect(retryReasonOf(new Error('Deadlock found when trying to get lock'))).toBeUndefined();
    expect(retryReasonOf('ER_LOCK_DEADLOCK')).toBeUndefined();
    expect(retryReasonOf(null)).toBeUndefined();
    expect(retryReasonOf(undefined)).toBeUndefined();
  });
});

describe('isDatabaseUnreachable', () => {
  it.each(['ECONNREFUSED', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'ER_CON_COUNT_ERROR'])(
    'should call %s unreachable, an outage',
    (code) => {
      expect(isDatabaseUnreachable(clientError(code))).toBe(true);
      expect(isDatabaseOutage(clientError(code))).toBe(true);
      expect(retryReasonOf(clientError(code))).toBeUndefined();
    },
  );

  it('should leave socket errors not from the driver alone (an outbound HTTP call)', () => {
    const upstream = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    expect(retryReasonOf(upstream)).toBeUndefined();
    expect(isDatabaseOutage(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }))).toBe(false);
  });

  it('should not call a failed query unreachable', () => {
    expect(isDatabaseUnreachable(queryFailed(1062, 'ER_DUP_ENTRY'))).toBe(false);
  });
});
