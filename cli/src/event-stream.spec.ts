import { createServer, IncomingHttpHeaders, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { Api } from './api';
import { followEvents } from './event-stream';
import { SseMessage } from './sse';

describe('followEvents', () => {
  let server: Server;
  let sut: Api;
  const requests: { url: string; headers: IncomingHttpHeaders }[] = [];

  beforeAll(async () => {
    server = createServer((request, response) => {
      requests.push({ url: request.url ?? '', headers: request.headers });
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      if (requests.length === 1) {
        // The first connection: ready, one event, then the server ends the stream.
        response.end(
          'id: 10\nevent: ready\ndata: {"streamSeq":"10"}\n\n' +
            'id: 11\nevent: rotation.succeeded\ndata: {"resourceId":"a"}\n\n' +
            ': closing: shutdown\n\n',
        );
      } else {
        response.write('id: 11\nevent: ready\ndata: {"streamSeq":"11"}\n\n');
        response.write('id: 12\nevent: rotation.succeeded\ndata: {"resourceId":"b"}\n\n');
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    sut = new Api(`http://127.0.0.1:${port}`, { kind: 'apiKey', apiKey: 'cus_test' });
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('should reconnect after the stream ends, resuming with the Last-Event-ID it saw', async () => {
    const abort = new AbortController();
    const heard: SseMessage[] = [];
    const fail = jest.fn();
    let done!: () => void;
    const second = new Promise<void>((resolve) => (done = resolve));
    await followEvents(
      sut,
      ['rotation.succeeded'],
      (message) => {
        heard.push(message);
        if (heard.length === 2) done();
      },
      abort.signal,
      { verbose: false, fail, firstDelayMs: 20 },
    );
    await second;
    abort.abort();

    expect(heard.map((m) => [m.id, m.event, m.data])).toEqual([
      ['11', 'rotation.succeeded', '{"resourceId":"a"}'],
      ['12', 'rotation.succeeded', '{"resourceId":"b"}'],
    ]);
    expect(requests).toHaveLength(2);
    expect(requests[0].url).toBe('/api/v1/events?types=rotation.succeeded');
    expect(requests[0].headers['x-api-key']).toBe('cus_test');
    expect(requests[0].headers['last-event-id']).toBeUndefined();
    expect(requests[1].headers['last-event-id']).toBe('11');
    expect(fail).not.toHaveBeenCalled();
  });

  it('should reject when the first connection is refused', async () => {
    const refused = new Api('http://127.0.0.1:1', { kind: 'apiKey', apiKey: 'cus_test' });
    await expect(
      followEvents(refused, ['rotation.succeeded'], () => undefined, new AbortController().signal, {
        verbose: false,
        fail: jest.fn(),
      }),
    ).rejects.toThrow(/cannot reach http:\/\/127.0.0.1:1/);
  });
});
