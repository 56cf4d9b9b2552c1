import { accountLabel, accountSql, isAccountName, nextUser } from './mariadb-account';

describe('mariadb accounts', () => {
  describe('accountSql', () => {
    it('should quote a valid name and host as string literals', () => {
      expect(accountSql({ name: 'app_a', host: '%' })).toBe("'app_a'@'%'");
      expect(accountSql({ name: 'svc.$x-1', host: '10.0.0.0/255.255.255.0' })).toBe(
        "'svc.$x-1'@'10.0.0.0/255.255.255.0'",
      );
    });

    it.each([
      ["app'; DROP USER root; --", '%'],
      ['app a', '%'],
      ['', '%'],
      ['a'.repeat(81), '%'],
      ['app\\', '%'],
      ['app', "%'"],
      ['app', ''],
      ['app', 'host name'],
    ])('should refuse the name %p with the host %p', (name, host) => {
      expect(() => accountSql({ name, host })).toThrow(/not a valid MariaDB/);
    });
  });

  it('should tell user names apart from anything else', () => {
    expect(isAccountName('app_b')).toBe(true);
    expect(isAccountName('app"b')).toBe(false);
    expect(isAccountName(null)).toBe(false);
    expect(isAccountName(42)).toBe(false);
  });

  it('should label an account for messages', () => {
    expect(accountLabel({ name: 'app_a', host: '%' })).toBe('app_a@%');
  });

  describe('nextUser', () => {
    const pair = ['app_a', 'app_b'] as const;

    it('should pick the user of the pair that is not in service', () => {
      expect(nextUser(pair, 'app_a')).toBe('app_b');
      expect(nextUser(pair, 'app_b')).toBe('app_a');
    });

    it('should pick none for a credential whose user is not one of the pair', () => {
      expect(nextUser(pair, 'root')).toBeUndefined();
      expect(nextUser(pair, null)).toBeUndefined();
    });
  });
});
