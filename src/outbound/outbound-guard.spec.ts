import type { LookupAddress } from 'node:dns';
import { loadOutboundConfig, OutboundConfig } from '../config/outbound.config';
import { classifyAddress } from './address-policy';
import { hostAllowed } from './host-allowlist';
import { HostResolver, OutboundGuard } from './outbound-guard';
import { OutboundRefusedError, OutboundRequestError } from './outbound.errors';

/** Names the tests resolve, as a hostile or careless DNS would answer them. */
const DNS: Record<string, string[]> = {
  'hooks.example.com': ['93.184.216.34'],
  'loopback.example.com': ['127.0.0.1'],
  'v6loopback.example.com': ['::1'],
  'metadata.example.com': ['169.254.169.254'],
  'intranet.example.com': ['10.1.2.3'],
  'mixed.example.com': ['93.184.216.34', '192.168.1.10'],
  'mapped.example.com': ['::ffff:127.0.0.1'],
  localhost: ['127.0.0.1', '::1'],
};

const resolver: HostResolver = (host) => {
  const addresses = DNS[host];
  if (!addresses)
    return Promise.reject(Object.assign(new Error('not found'), { code: 'ENOTFOUND' }));
  return Promise.resolve(
    addresses.map((address): LookupAddress => ({ address, family: address.includes(':') ? 6 : 4 })),
  );
};

function guard(env: Record<string, string> = {}): OutboundGuard {
  const config: OutboundConfig = loadOutboundConfig(env);
  return new OutboundGuard(config, resolver);
}

async function refusal(work: () => unknown): Promise<string> {
  try {
    await work();
  } catch (error) {
    expect(error).toBeInstanceOf(OutboundRefusedError);
    return (error as Error).message;
  }
  throw new Error('expected an OutboundRefusedError');
}

describe('classifyAddress', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['0x7f000001', 'loopback'],
    ['2130706433', 'loopback'],
    ['0177.0.0.1', 'loopback'],
    ['127.1', 'loopback'],
    ['::1', 'loopback'],
    ['[::1]', 'loopback'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['10.0.0.1', 'private'],
    ['172.16.5.4', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.0.1', 'private'],
    ['100.64.0.1', 'private'],
    ['100.127.255.254', 'private'],
    ['fd12:3456::1', 'private'],
    ['fc00::1', 'private'],
    ['::ffff:10.0.0.1', 'private'],
    ['169.254.169.254', 'link-local'],
    ['::ffff:169.254.169.254', 'link-local'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['224.0.0.1', 'multicast'],
    ['ff02::1', 'multicast'],
    ['0.0.0.0', 'unspecified'],
    ['0', 'unspecified'],
    ['::', 'unspecified'],
    ['255.255.255.255', 'reserved'],
    ['240.0.0.1', 'reserved'],
    ['192.0.2.10', 'reserved'],
    ['64:ff9b::7f00:1', 'reserved'],
    ['2002:7f00:1::', 'reserved'],
    ['::7f00:1', 'reserved'],
    ['93.184.216.34', 'public'],
    ['172.32.0.1', 'public'],
    ['100.128.0.1', 'public'],
    ['2606:4700::1111', 'public'],
  ])('should class %s as %s', (ip, kind) => {
    expect(classifyAddress(ip)).toBe(kind);
  });
});

describe('hostAllowed', () => {
  const list = ['hooks.example.com', '*.corp.example'];

  it('should allow every host when the list is empty', () => {
    expect(hostAllowed('anything.example', [])).toBe(true);
  });

  it.each([
    ['hooks.example.com', true],
    ['HOOKS.example.com.', true],
    ['evil.hooks.example.com', false],
    ['hooks.example.com.evil.net', false],
    ['a.corp.example', true],
    ['a.b.corp.example', true],
    ['corp.example', false],
    ['xcorp.example', false],
  ])('should say %s is %s on [hooks.example.com, *.corp.example]', (host, allowed) => {
    expect(hostAllowed(host, list)).toBe(allowed);
  });
});

describe('OutboundGuard', () => {
  describe('checkUrl', () => {
    it('should accept a public https URL', () => {
      expect(guard().checkUrl('https://hooks.example.com/custos').hostname).toBe(
        'hooks.example.com',
      );
    });

    it.each([
      'https://127.0.0.1/hook',
      'https://[::1]/hook',
      'https://0x7f000001/hook',
      'https://2130706433/hook',
      'https://0177.0.0.1/hook',
      'https://127.1/hook',
      'https://[::ffff:127.0.0.1]/hook',
      'https://localhost/hook',
      'https://api.localhost/hook',
      'https://169.254.169.254/latest/meta-data/',
      'https://[fe80::1]/hook',
      'https://10.0.0.1/hook',
      'https://172.16.0.1/hook',
      'https://192.168.1.1/hook',
      'https://100.64.0.1/hook',
      'https://[fd00::1]/hook',
      'https://0.0.0.0/hook',
      'https://224.0.0.1/hook',
    ])('should refuse %s before any DNS or connection', async (url) => {
      expect(await refusal(() => guard().checkUrl(url))).toMatch(
        /loopback|private|link-local|multicast|unspecified/,
      );
    });

    it.each([
      'file:///etc/passwd',
      'gopher://hooks.example.com:70/_',
      'ftp://hooks.example.com/x',
      'data:text/plain,hello',
      'javascript:alert(1)',
      'ws://hooks.example.com/',
      'http://hooks.example.com/hook',
    ])('should refuse the scheme of %s', async (url) => {
      expect(await refusal(() => guard().checkUrl(url))).toMatch(/scheme is not allowed/);
    });

    it('should accept http only when CUSTOS_OUTBOUND_ALLOW_HTTP is true', () => {
      const sut = guard({ CUSTOS_OUTBOUND_ALLOW_HTTP: 'true' });
      expect(sut.checkUrl('http://hooks.example.com/').protocol).toBe('http:');
    });

    it('should refuse a URL that is not absolute', async () => {
      expect(await refusal(() => guard().checkUrl('/relative'))).toMatch(/absolute/);
    });

    it('should refuse a user name or password in the URL', async () => {
      expect(await refusal(() => guard().checkUrl('https://user:pw@hooks.example.com/'))).toMatch(
        /user name or password/,
      );
    });

    it('should allow loopback literals and localhost with CUSTOS_OUTBOUND_ALLOW_LOOPBACK', () => {
      const sut = guard({ CUSTOS_OUTBOUND_ALLOW_LOOPBACK: 'true' });
      for (const url of ['https://127.0.0.1:8443/', 'https://[::1]/', 'https://localhost/']) {
        expect(() => sut.checkUrl(url)).not.toThrow();
      }
      expect(() => sut.checkUrl('https://10.0.0.1/')).toThrow(OutboundRefusedError);
    });

    it('should allow private ranges only with CUSTOS_OUTBOUND_ALLOW_PRIVATE', async () => {
      const sut = guard({ CUSTOS_OUTBOUND_ALLOW_PRIVATE: 'true' });
      for (const url of ['https://10.0.0.1/', 'https://100.64.0.1/', 'https://[fd00::1]/']) {
        expect(() => sut.checkUrl(url)).not.toThrow();
      }
      expect(await refusal(() => sut.checkUrl('https://127.0.0.1/'))).toMatch(/loopback/);
    });

    it('should refuse link-local (the metadata service) whatever the configuration', async () => {
      const sut = guard({
        CUSTOS_OUTBOUND_ALLOW_PRIVATE: 'true',
        CUSTOS_OUTBOUND_ALLOW_LOOPBACK: 'true',
      });
      expect(await refusal(() => sut.checkUrl('https://169.254.169.254/'))).toMatch(/link-local/);
    });

    it('should refuse a host missing from CUSTOS_OUTBOUND_HOSTS', async () => {
      const sut = guard({ CUSTOS_OUTBOUND_HOSTS: 'hooks.example.com,*.corp.example' });
      expect(sut.checkUrl('https://a.corp.example/').hostname).toBe('a.corp.example');
      expect(await refusal(() => sut.checkUrl('https://other.example.com/'))).toMatch(
        /not in CUSTOS_OUTBOUND_HOSTS/,
      );
    });
  });

  describe('resolveChecked', () => {
    it('should answer the addresses of a public name', async () => {
      await expect(guard().resolveChecked('hooks.example.com')).resolves.toEqual(['93.184.216.34']);
    });

    it.each([
      ['loopback.example.com', /127\.0\.0\.1 is a loopback/],
      ['v6loopback.example.com', /::1 is a loopback/],
      ['mapped.example.com', /127\.0\.0\.1 is a loopback/],
      ['metadata.example.com', /169\.254\.169\.254 is a link-local/],
      ['intranet.example.com', /10\.1\.2\.3 is a private/],
      ['mixed.example.com', /192\.168\.1\.10 is a private/],
    ])('should refuse %s by the address it resolves to', async (host, reason) => {
      expect(await refusal(() => guard().resolveChecked(host))).toMatch(reason);
    });

    it.each(['127.0.0.1', '[::1]', '0x7f000001', '2130706433', '0177.0.0.1', 'localhost'])(
      'should refuse %s',
      async (host) => {
        expect(await refusal(() => guard().resolveChecked(host))).toMatch(/loopback/);
      },
    );

    it('should resolve localhost when loopback is allowed', async () => {
      const sut = guard({ CUSTOS_OUTBOUND_ALLOW_LOOPBACK: 'true' });
      await expect(sut.resolveChecked('localhost')).resolves.toEqual(['127.0.0.1', '::1']);
      await expect(sut.resolveChecked('0x7f000001')).resolves.toEqual(['127.0.0.1']);
    });

    it('should say a name does not resolve, as a request error rather than a refusal', async () => {
      await expect(guard().resolveChecked('nowhere.example.com')).rejects.toThrow(
        new OutboundRequestError('cannot resolve nowhere.example.com (ENOTFOUND)'),
      );
    });
  });

  describe('lookup', () => {
    const lookup = (host: string, options: { all?: boolean; family?: number }) =>
      new Promise<{ error: Error | null; address: unknown; family?: number }>((resolve) =>
        guard().lookup(host, options, (error, address, family) =>
          resolve({ error, address, family }),
        ),
      );

    it('should give net.connect every checked address when asked for all', async () => {
      expect(await lookup('hooks.example.com', { all: true })).toEqual({
        error: null,
        address: [{ address: '93.184.216.34', family: 4 }],
        family: undefined,
      });
    });

    it('should give one address and its family otherwise', async () => {
      expect(await lookup('hooks.example.com', {})).toEqual({
        error: null,
        address: '93.184.216.34',
        family: 4,
      });
    });

    it('should fail the connection to a name resolving to a forbidden address', async () => {
      const { error } = await lookup('loopback.example.com', { all: true });
      expect(error).toBeInstanceOf(OutboundRefusedError);
    });
  });
});
