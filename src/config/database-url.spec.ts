import { nodeName, parseDatabaseUrl } from './database-url';

describe('parseDatabaseUrl', () => {
  it('should read a single host with user, password and database', () => {
    expect(parseDatabaseUrl('mysql://custos:pw@db:3307/custos')).toEqual({
      user: 'custos',
      password: 'pw',
      database: 'custos',
      nodes: [{ host: 'db', port: 3307 }],
    });
  });

  it('should read a host list in its order, defaulting the port to 3306', () => {
    const sut = parseDatabaseUrl('mariadb://u:p@h1:3306,h2,10.0.0.3:3310/custos');
    expect(sut.nodes).toEqual([
      { host: 'h1', port: 3306 },
      { host: 'h2', port: 3306 },
      { host: '10.0.0.3', port: 3310 },
    ]);
  });

  it('should percent-decode the user and the password', () => {
    const sut = parseDatabaseUrl('mysql://c%40x:p%2Fw%3A%40@h1,h2/custos');
    expect(sut).toMatchObject({ user: 'c@x', password: 'p/w:@' });
  });

  it('should allow no credentials and ignore query parameters', () => {
    expect(parseDatabaseUrl('mysql://h1:3401,h2:3402/custos?ssl=true')).toEqual({
      user: undefined,
      password: undefined,
      database: 'custos',
      nodes: [
        { host: 'h1', port: 3401 },
        { host: 'h2', port: 3402 },
      ],
    });
  });

  it('should read IPv6 literals in brackets', () => {
    const sut = parseDatabaseUrl('mysql://root@[::1]:3401,[fd00::2]/custos');
    expect(sut.nodes).toEqual([
      { host: '::1', port: 3401 },
      { host: 'fd00::2', port: 3306 },
    ]);
    expect(sut.nodes.map(nodeName)).toEqual(['[::1]:3401', '[fd00::2]:3306']);
  });

  it.each([
    ['no database', 'mysql://h1:3306,h2:3306'],
    ['an empty host', 'mysql://u@h1,,h2/custos'],
    ['a port out of range', 'mysql://h1:70000/custos'],
    ['a port that is not a number', 'mysql://h1:x/custos'],
    ['the same host twice', 'mysql://h1:3306,h1/custos'],
    ['another scheme', 'postgres://h1/custos'],
  ])('should reject %s', (_why, url) => {
    expect(() => parseDatabaseUrl(url)).toThrow();
  });
});
