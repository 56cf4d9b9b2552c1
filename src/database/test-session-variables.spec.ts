import { testSessionStatement } from './test-session-variables';

describe('testSessionStatement', () => {
  it('should build one SET SESSION from the allowed variables under NODE_ENV=test', () => {
    expect(
      testSessionStatement({
        NODE_ENV: 'test',
        TEST_DB_SESSION_VARIABLES: 'auto_increment_increment=3, auto_increment_offset=2',
      }),
    ).toBe('SET SESSION auto_increment_increment = 3, auto_increment_offset = 2');
  });

  it('should ignore the variable outside tests', () => {
    for (const NODE_ENV of ['production', 'development', undefined]) {
      expect(
        testSessionStatement({ NODE_ENV, TEST_DB_SESSION_VARIABLES: 'innodb_lock_wait_timeout=1' }),
      ).toBeUndefined();
    }
  });

  it.each(['sql_mode=0', 'auto_increment_offset=2; DROP TABLE users', 'lock_wait_timeout=x'])(
    'should refuse %j',
    (spec) => {
      expect(() =>
        testSessionStatement({ NODE_ENV: 'test', TEST_DB_SESSION_VARIABLES: spec }),
      ).toThrow('TEST_DB_SESSION_VARIABLES');
    },
  );
});
