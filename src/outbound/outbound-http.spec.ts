import type { LookupAddress } from 'node:dns';
import { HttpsReceiver } from '../../test/helpers/https-receiver';
import { loadOutboundConfig } from '../config/outbound.config';
import { HostResolver, OutboundGuard } from './outbound-guard';
import { OutboundHttp } from './outbound-http';
import { OutboundRefusedError, OutboundRequestError } from './outbound.errors';

/** Names that exist only for these tests; nothing here reaches a real resolver or network. */
const DNS: Record<string, string> = {
  'hooks.test': '127.0.0.1',
  'intranet.test': '10.1.2.3',
};
const resolver: HostResolver = (host) =>
  DNS[host]
    ? Promise.resolve([{ address: DNS[host], family: 4 } satisfies LookupAddress])
    : Promise.reject(Object.assign(new Error('not found'), { code: 'ENOTFOUND' }));

describe('OutboundHttp against a local HTTPS receiver', () => {
  let receiver: HttpsReceiver;
  const clients: OutboundHttp[] = [];

  function client(env: Record<string, string> = {}, trustCa = true): OutboundHttp {
    const config = loadOutboundConfig({
      CUSTOS_OUTBOUND_ALLOW_LOOPBACK: 'true',
      ...(trustCa ? { CUSTOS_OUTBOUND_CA_FILE: receiver.caFile } : {}),
      ...env,
    });
    const sut = new OutboundHttp(new OutboundGuard(config, resolver), config);
    clients.push(sut);
    return sut;
  }

  beforeAll(async () => {
    receiver = await HttpsReceiver.start();
  });

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.onModuleDestroy()));
    await receiver?.close();
  });

  beforeEach(() => {
    receiver.requests.length = 0;
    receiver.responder = () => ({ status: 204 });
  });

  it('should POST the body and headers to a receiver trusted through CUSTOS_OUTBOUND_CA_FILE', async () => {
    receiver.responder = () => ({ status: 200, body: 'ok' });

    const response = await client().send({
      method: 'POST',
      url: receiver.url('/hook'),
      headers: { 'x-custos-delivery': 'd1' },
      body: '{"a":1}',
    });

    expect(response.status).toBe(200);
    expect(response.body.toString()).toBe('ok');
    expect(receiver.to('/hook')).toEqual([
      expect.objectContaining({
        method: 'POST',
        body: '{"a":1}',
        headers: expect.objectContaining({
          'x-custos-delivery': 'd1',
          'content-type': 'application/json',
        }),
      }),
    ]);
  });

  it('should connect to the address the guard resolved a name to', async () => {
    const response = await client().send({
      method: 'GET',
      url: receiver.url('/named', 'hooks.test'),
    });

    expect(response.status).toBe(204);
    expect(receiver.to('/named')).toHaveLength(1);
  });

  it('should refuse a name resolving to loopback when loopback is not allowed, without connecting', async () => {
    const sut = client({ CUSTOS_OUTBOUND_ALLOW_LOOPBACK: 'false' });

    await expect(
      sut.send({ method: 'GET', url: receiver.url('/named', 'hooks.test') }),
    ).rejects.toThrow(
      new OutboundRefusedError('hooks.test resolves to 127.0.0.1 is a loopback address'),
    );
    expect(receiver.requests).toHaveLength(0);
  });

  it.each(['127.0.0.1', '[::1]', 'localhost', '0x7f000001'])(
    'should refuse %s when loopback is not allowed, without connecting',
    async (host) => {
      const sut = client({ CUSTOS_OUTBOUND_ALLOW_LOOPBACK: 'false' });

      await expect(sut.send({ method: 'GET', url: receiver.url('/', host) })).rejects.toThrow(
        OutboundRefusedError,
      );
      expect(receiver.requests).toHaveLength(0);
    },
  );

  it('should refuse a receiver whose certificate it does not trust', async () => {
    await expect(client({}, false).send({ method: 'GET', url: receiver.url() })).rejects.toThrow(
      OutboundRequestError,
    );
    expect(receiver.requests).toHaveLength(0);
  });

  it('should trust a certificate given for one call', async () => {
    const response = await client({}, false).send({
      method: 'GET',
      url: receiver.url('/own-ca'),
      ca: receiver.certificate,
    });
    expect(response.status).toBe(204);
  });

  it('should answer a redirect as it came when redirects are off (the default)', async () => {
    receiver.responder = () => ({ status: 302, headers: { location: '/elsewhere' } });

    const response = await client().send({
      method: 'POST',
      url: receiver.url('/moved'),
      body: '{}',
    });

    expect(response.status).toBe(302);
    expect(receiver.to('/elsewhere')).toHaveLength(0);
  });

  it('should follow an allowed redirect when CUSTOS_OUTBOUND_MAX_REDIRECTS allows, keeping a 307 a POST', async () => {
    receiver.responder = (r) =>
      r.path === '/moved' ? { status: 307, headers: { location: '/target' } } : { status: 200 };

    const response = await client({ CUSTOS_OUTBOUND_MAX_REDIRECTS: '2' }).send({
      method: 'POST',
      url: receiver.url('/moved'),
      body: '{"b":2}',
    });

    expect(response.status).toBe(200);
    expect(response.url).toBe(receiver.url('/target'));
    expect(receiver.to('/target')).toEqual([
      expect.objectContaining({ method: 'POST', body: '{"b":2}' }),
    ]);
  });

  it.each([
    ['a private address', 'https://10.0.0.1/internal', /10\.0\.0\.1 is a private address/],
    ['the metadata service', 'http://169.254.169.254/latest', /scheme is not allowed/],
    [
      'a name resolving to a private address',
      'https://intranet.test/x',
      /10\.1\.2\.3 is a private/,
    ],
    ['a file URL', 'file:///etc/passwd', /file scheme is not allowed/],
  ])('should refuse a redirect to %s', async (_case, location, reason) => {
    receiver.responder = () => ({ status: 302, headers: { location } });

    await expect(
      client({ CUSTOS_OUTBOUND_MAX_REDIRECTS: '3' }).send({
        method: 'GET',
        url: receiver.url('/r'),
      }),
    ).rejects.toThrow(reason);
    expect(receiver.requests).toHaveLength(1);
  });

  it('should give up on a receiver slower than the timeout', async () => {
    receiver.responder = () => ({ status: 200, delayMs: 2_000 });

    await expect(
      client().send({ method: 'GET', url: receiver.url('/slow'), timeoutMs: 300 }),
    ).rejects.toThrow(/did not answer within 300 ms/);
  });

  it('should refuse an answer larger than CUSTOS_OUTBOUND_MAX_RESPONSE_BYTES', async () => {
    receiver.responder = () => ({ status: 200, body: 'x'.repeat(5000) });

    await expect(
      client({ CUSTOS_OUTBOUND_MAX_RESPONSE_BYTES: '1024' }).send({
        method: 'GET',
        url: receiver.url(),
      }),
    ).rejects.toThrow(/larger than 1024 bytes/);
  });
});
