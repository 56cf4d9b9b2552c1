import { problemsOf } from './__fixtures__/problems-of';
import {
  connectionStringPasswords,
  describeConnectionString,
  parseConnectionStringSecret,
} from './connection-string-secret';

describe('parseConnectionStringSecret', () => {
  it('should keep the string exactly and derive its scheme, host and port', () => {
    const connectionString = ' postgres://app:s3cr3t-pw@db.example.test:5432/app?sslmode=require';
    const trimmed = connectionString.trim();
    expect(parseConnectionStringSecret({ connectionString })).toEqual({
      value: { connectionString },
      derived: {},
    });
    expect(parseConnectionStringSecret({ connectionString: trimmed })).toEqual({
      value: { connectionString: trimmed },
      derived: { scheme: 'postgres', host: 'db.example.test', port: 5432 },
    });
  });

  it('should refuse an empty, too long or missing connection string', () => {
    expect(problemsOf(() => parseConnectionStringSecret({ connectionString: '' }))).toEqual([
      { field: 'secret.connectionString', errors: ['connectionString must not be empty'] },
    ]);
    expect(
      problemsOf(() => parseConnectionStringSecret({ connectionString: 'x'.repeat(4097) })),
    ).toEqual([
      {
        field: 'secret.connectionString',
        errors: ['connectionString must be at most 4096 characters'],
      },
    ]);
    expect(problemsOf(() => parseConnectionStringSecret({}))).toEqual([
      { field: 'secret.connectionString', errors: ['connectionString is required'] },
    ]);
  });
});

describe('describeConnectionString', () => {
  it.each([
    ['mysql://root:pw@127.0.0.1:3306/db', { scheme: 'mysql', host: '127.0.0.1', port: 3306 }],
    [
      'mongodb+srv://u:pw@cluster0.example.net/db',
      { scheme: 'mongodb+srv', host: 'cluster0.example.net' },
    ],
    [
      'jdbc:postgresql://db.example.test:5433/app?user=u&password=pw',
      { scheme: 'jdbc:postgresql', host: 'db.example.test', port: 5433 },
    ],
    ['redis://:pw@[::1]:6379/0', { scheme: 'redis', host: '[::1]', port: 6379 }],
    ['amqps://guest:p%40ss@mq.example.test/vhost', { scheme: 'amqps', host: 'mq.example.test' }],
    ['postgres://u:p@ss@db.example.test/app', { scheme: 'postgres', host: 'db.example.test' }],
  ])('should describe %s', (connectionString, facts) => {
    expect(describeConnectionString(connectionString)).toEqual(facts);
  });

  it.each([
    [
      'a password with an unescaped slash',
      'postgres://u:1234/abc@db.example.test/app',
      { scheme: 'postgres' },
    ],
    [
      'a password with an unescaped backslash',
      'https://u:1234\\abc@db.example.test/',
      { scheme: 'https' },
    ],
    ['several hosts', 'mongodb://u:pw@h1:27017,h2:27017/db', { scheme: 'mongodb' }],
    ['a key=value string', 'Server=db;Database=app;User Id=u;Password=pw;', {}],
    ['a string that starts with a space', ' mysql://u:pw@db/app', {}],
  ])('should derive no host from %s', (_label, connectionString, facts) => {
    expect(describeConnectionString(connectionString)).toEqual(facts);
  });

  it('should derive neither the user name nor the password', () => {
    const facts = JSON.stringify(
      describeConnectionString('https://ghp_tokenAsUser:pw-part@github.com/o/r.git'),
    );
    expect(facts).not.toContain('ghp_tokenAsUser');
    expect(facts).not.toContain('pw-part');
  });
});

describe('connectionStringPasswords', () => {
  it.each([
    ['mysql://app:s3cr3t-pw@db.example.test:3306/app', ['s3cr3t-pw']],
    ['jdbc:postgresql://app:s3cr3t-pw@db/app?ssl=true', ['s3cr3t-pw']],
    ['mongodb+srv://u:p%40ss%3Aword@cluster0.example.net/db', ['p%40ss%3Aword', 'p@ss:word']],
    ['redis://:only-a-password@cache:6379/0', ['only-a-password']],
    ['Server=db;User Id=app;Password=s3cr3t-pw;Encrypt=true', ['s3cr3t-pw']],
    ['Driver={ODBC};Server=db;PWD= spaced-pw ;', ['spaced-pw']],
  ])('should find the password of %s', (connectionString, expected) => {
    expect(connectionStringPasswords(connectionString)).toEqual(expected);
  });

  it.each([
    'https://token-as-user@github.com/acme/repo.git',
    'postgres://db.example.test/app?user=app',
    // An unescaped '/' in the password: the authority is ambiguous, as for the facts above.
    'mysql://app:pa/ss@db/app',
    'Server=db;Integrated Security=true',
  ])('should find no password in %s', (connectionString) => {
    expect(connectionStringPasswords(connectionString)).toEqual([]);
  });

  it('should keep a password with a bad escape as written', () => {
    expect(connectionStringPasswords('mysql://app:100%-sure@db/app')).toEqual(['100%-sure']);
  });
});
