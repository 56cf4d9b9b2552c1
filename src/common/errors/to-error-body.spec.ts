import {
  BadRequestException,
  ForbiddenException,
  HttpException,
  HttpStatus,
  InternalServerErrorException,
  NotFoundException,
} from '@nestjs/common';
import { QueryFailedError } from 'typeorm';
import { RequestValidationError } from '../validation/request-validation.error';
import { DomainError, DomainErrorKind } from './domain-error';
import { DatabaseBusyError } from './database-errors';
import { retryAfterOf, toErrorBody } from './to-error-body';

function domainError(kind: DomainErrorKind, message: string): DomainError {
  class TestDomainError extends DomainError {
    readonly kind = kind;
  }
  return new TestDomainError(message);
}

const GENERIC_500 = {
  statusCode: 500,
  error: 'Internal Server Error',
  message: 'Internal server error',
};

describe('toErrorBody', () => {
  it.each([
    ['invalid', 400, 'Bad Request'],
    ['unauthenticated', 401, 'Unauthorized'],
    ['forbidden', 403, 'Forbidden'],
    ['not_found', 404, 'Not Found'],
    ['conflict', 409, 'Conflict'],
    ['precondition_failed', 412, 'Precondition Failed'],
    ['unavailable', 503, 'Service Unavailable'],
  ] as const)(
    'should map a DomainError of kind %s to %i and keep its message',
    (kind, status, error) => {
      const sut = toErrorBody(domainError(kind, `the ${kind} message`));
      expect(sut).toEqual({ statusCode: status, error, message: `the ${kind} message` });
    },
  );

  it('should carry the fields of a RequestValidationError', () => {
    const fields = [
      { field: 'name', errors: ['name must be a string'] },
      { field: 'owner.email', errors: ['owner.email must be an email', 'too long'] },
    ];
    const sut = toErrorBody(new RequestValidationError(fields));
    expect(sut).toEqual({
      statusCode: 400,
      error: 'Bad Request',
      message:
        'Validation failed: name (name must be a string), owner.email (owner.email must be an email; too long)',
      fields,
    });
  });

  it('should not add fields to other domain errors', () => {
    expect(toErrorBody(domainError('invalid', 'nope'))).not.toHaveProperty('fields');
  });

  it('should map a NotFoundException to 404 with its message', () => {
    expect(toErrorBody(new NotFoundException('Credential not found'))).toEqual({
      statusCode: 404,
      error: 'Not Found',
      message: 'Credential not found',
    });
  });

  it('should map a NotFoundException without a message to its default message', () => {
    expect(toErrorBody(new NotFoundException())).toEqual({
      statusCode: 404,
      error: 'Not Found',
      message: 'Not Found',
    });
  });

  it('should join the message array of a BadRequestException', () => {
    const sut = toErrorBody(new BadRequestException(['name must be a string', 'age must be > 0']));
    expect(sut).toEqual({
      statusCode: 400,
      error: 'Bad Request',
      message: 'name must be a string; age must be > 0',
    });
  });

  it('should keep a plain string response of an HttpException', () => {
    expect(toErrorBody(new HttpException('Slow down', HttpStatus.TOO_MANY_REQUESTS))).toEqual({
      statusCode: 429,
      error: 'Too Many Requests',
      message: 'Slow down',
    });
  });

  it('should fall back to the exception message when the response object has no message', () => {
    expect(toErrorBody(new ForbiddenException({ reason: 'no' }))).toEqual({
      statusCode: 403,
      error: 'Forbidden',
      message: 'Forbidden Exception',
    });
  });

  it('should keep the message and details of a 503 HttpException', () => {
    const details = { database: { status: 'down' }, keyring: { status: 'up' } };
    const sut = toErrorBody(
      new HttpException({ message: 'Not ready', details }, HttpStatus.SERVICE_UNAVAILABLE),
    );
    expect(sut).toEqual({
      statusCode: 503,
      error: 'Service Unavailable',
      message: 'Not ready',
      details,
    });
  });

  it('should hide the message of a 5xx HttpException other than 503', () => {
    const sut = toErrorBody(
      new InternalServerErrorException('SELECT * FROM users WHERE password = hunter2'),
    );
    expect(sut).toEqual(GENERIC_500);
    expect(
      JSON.stringify(toErrorBody(new HttpException({ details: { x: 1 } }, 502))),
    ).not.toContain('details');
  });

  it('should map a plain Error to a generic 500 without its message', () => {
    const sut = toErrorBody(new Error('ENOENT: /etc/custos/master.key'));
    expect(sut).toEqual(GENERIC_500);
    expect(JSON.stringify(sut)).not.toContain('master.key');
  });

  it('should map a TypeORM QueryFailedError to a generic 500 without the SQL', () => {
    const sql = 'INSERT INTO `credential` (`secret`) VALUES (?)';
    const driverError = Object.assign(new Error(`Duplicate entry 'cus_x' for key 'PRIMARY'`), {
      code: 'ER_DUP_ENTRY',
      errno: 1062,
      sqlMessage: `Duplicate entry 'cus_x' for key 'PRIMARY'`,
      sql,
    });
    const sut = toErrorBody(new QueryFailedError(sql, ['cus_x'], driverError));
    expect(sut).toEqual(GENERIC_500);
    const json = JSON.stringify(sut);
    expect(json).not.toContain('Duplicate');
    expect(json).not.toContain('cus_x');
    expect(json).not.toContain('INSERT');
  });

  it('should map a deadlock that reached it raw to a 503 with Retry-After and no SQL', () => {
    const sql = 'UPDATE audit_chain_heads SET hash = ? WHERE lane = ?';
    const driverError = Object.assign(
      new Error('Deadlock found when trying to get lock; try restarting transaction'),
      { code: 'ER_LOCK_DEADLOCK', errno: 1213, sql },
    );
    const raw = new QueryFailedError(sql, ['h', 1], driverError);
    const sut = toErrorBody(raw);
    expect(sut).toEqual({
      statusCode: 503,
      error: 'Service Unavailable',
      message: 'The database is busy with conflicting changes; nothing was changed, retry shortly',
    });
    expect(JSON.stringify(sut)).not.toMatch(/Deadlock|UPDATE|audit_chain/);
    expect(retryAfterOf(raw)).toBe(1);
  });

  it('should map an unreachable database to a 503 with Retry-After', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:3306'), {
      code: 'ECONNREFUSED',
      errno: -111,
      fatal: true,
    });
    expect(toErrorBody(refused)).toEqual({
      statusCode: 503,
      error: 'Service Unavailable',
      message: 'The database is unavailable; retry shortly',
    });
    expect(retryAfterOf(refused)).toBe(1);
  });

  it('should carry the Retry-After of a DatabaseBusyError and none for other errors', () => {
    expect(retryAfterOf(new DatabaseBusyError('lock_wait_timeout', 5))).toBe(1);
    expect(toErrorBody(new DatabaseBusyError('lock_wait_timeout', 5)).statusCode).toBe(503);
    expect(retryAfterOf(new Error('boom'))).toBeUndefined();
    expect(retryAfterOf(domainError('unavailable', 'sealed'))).toBeUndefined();
  });

  it('should map an error whose message contains SQL to a generic 500', () => {
    const sut = toErrorBody(new TypeError('near "FROM": syntax error in SELECT * FROM secrets'));
    expect(sut).toEqual(GENERIC_500);
    expect(JSON.stringify(sut)).not.toContain('SELECT');
  });

  it.each([
    ['a string', 'boom'],
    ['null', null],
    ['undefined', undefined],
    ['a plain object with a status', { statusCode: 400, message: 'fake', code: 'FST_ERR_X' }],
  ])('should map %s to a generic 500', (_case, thrown) => {
    expect(toErrorBody(thrown)).toEqual(GENERIC_500);
  });

  it('should map a Fastify error with a 4xx status and FST_ code to that status', () => {
    const error = Object.assign(new Error('Request body is too large'), {
      statusCode: 413,
      code: 'FST_ERR_CTP_BODY_TOO_LARGE',
    });
    expect(toErrorBody(error)).toEqual({
      statusCode: 413,
      error: 'Payload Too Large',
      message: 'Request body is too large',
    });
  });

  it('should not trust a status on an error that is not Fastify’s own', () => {
    const error = Object.assign(new Error('upstream said no: token=abc'), {
      statusCode: 400,
      code: 'ECONNRESET',
    });
    expect(toErrorBody(error)).toEqual(GENERIC_500);
  });

  it('should keep the status but not the message of an uncoded 4xx body error', () => {
    const error = Object.assign(new Error('socket detail'), { statusCode: 400 });
    expect(toErrorBody(error)).toEqual({
      statusCode: 400,
      error: 'Bad Request',
      message: 'Bad Request',
    });
  });

  it('should not pass a Fastify error with a 5xx status through', () => {
    const error = Object.assign(new Error('internal detail'), {
      statusCode: 500,
      code: 'FST_ERR_SOMETHING',
    });
    expect(toErrorBody(error)).toEqual(GENERIC_500);
  });

  it("should drop the query string that Nest's unknown-route message quotes", () => {
    const body = toErrorBody(new NotFoundException('Cannot GET /api/v1/nowhere?token=s3cret-42'));
    expect(body.message).toBe('Cannot GET /api/v1/nowhere');
  });
});
