import 'reflect-metadata';
import { plainToInstance } from 'class-transformer';
import { IsOptional, validateSync } from 'class-validator';
import { IsPageCursor, PageCursor } from './page-cursor';

const sut = new PageCursor('things', (key) => /^[a-z/]{1,20}$/.test(key));
const other = new PageCursor('others', () => true);

describe('PageCursor', () => {
  it('should give back the key it encoded', () => {
    const cursor = sut.encode('acme/prod');
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(sut.decode(cursor)).toBe('acme/prod');
  });

  it('should keep keys with any characters whole', () => {
    const anything = new PageCursor('any', () => true);
    expect(anything.decode(anything.encode('ä:/?&= x'))).toBe('ä:/?&= x');
  });

  it.each([
    ['garbage', 'garbage'],
    ['an empty string', ''],
    ['characters outside base64url', "' OR 1=1"],
    ['padding', `${sut.encode('ab')}=`],
    ['a non-canonical encoding', `${sut.encode('abc').slice(0, -1)}z`],
    ['a cursor of another list', other.encode('acme/prod')],
    ['a key the list cannot hold', sut.encode('ACME')],
    ['bytes that are not UTF-8', Buffer.from([0x74, 0x68, 0xff, 0xfe]).toString('base64url')],
    ['a number', 42],
    ['an array', [sut.encode('a')]],
    ['something too long', 'a'.repeat(1025)],
  ])('should refuse %s', (_case, value) => {
    expect(sut.decode(value)).toBeUndefined();
  });
});

describe('IsPageCursor', () => {
  class Query {
    @IsOptional()
    @IsPageCursor(sut)
    cursor?: string;
  }
  const check = (cursor: unknown) => validateSync(plainToInstance(Query, { cursor }));

  it('should accept a cursor of its list and refuse others with a message', () => {
    expect(check(sut.encode('a/b'))).toEqual([]);
    const [error] = check('garbage');
    expect(error.constraints).toEqual({
      isPageCursor: 'cursor must be the nextCursor of a previous page of this list',
    });
  });
});
