import Fastify, { FastifyInstance } from 'fastify';
import pino from 'pino';
import { Writable } from 'node:stream';
import { loggerOptions } from './logger-options';
import { registerRequestLogging, requestIdMixin } from './request-logging';

describe('registerRequestLogging', () => {
  let lines: Record<string, unknown>[];
  let logger: pino.Logger;
  let sut: FastifyInstance;

  beforeEach(async () => {
    lines = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
        done();
      },
    });
    const options = loggerOptions({ logLevel: 'info' } as Parameters<typeof loggerOptions>[0]);
    logger = pino(options.pinoHttp as pino.LoggerOptions, sink);
    sut = Fastify({ genReqId: () => `req-${lines.length}` });
    registerRequestLogging(sut, logger);
    sut.get('/api/v1/things', async () => {
      await new Promise((resolve) => setImmediate(resolve));
      logger.warn({ password: 'hunter2' }, 'inside the handler');
      return { ok: true };
    });
    sut.get('/api/v1/health/live', () => ({ ok: true }));
    await sut.ready();
  });

  afterEach(() => sut.close());

  it('should put the request id on a line logged while the request is served', async () => {
    await sut.inject({ method: 'GET', url: '/api/v1/things' });

    expect(lines[0]).toMatchObject({ msg: 'inside the handler', requestId: 'req-0' });
    expect(lines[0].password).toBe('[REDACTED]');
  });

  it('should log one line per request, without the query string or secret headers', async () => {
    await sut.inject({
      method: 'GET',
      url: '/api/v1/things?token=abc',
      headers: { 'x-api-key': 'cus_secret', 'user-agent': 'jest' },
    });

    const completed = lines.filter((line) => line.msg === 'request completed');
    expect(completed).toEqual([
      expect.objectContaining({
        requestId: 'req-0',
        req: {
          method: 'GET',
          url: '/api/v1/things',
          remoteAddress: '127.0.0.1',
          headers: expect.objectContaining({ 'x-api-key': '[REDACTED]', 'user-agent': 'jest' }),
        },
        res: { statusCode: 200 },
        responseTime: expect.any(Number),
      }),
    ]);
  });

  it('should leave the probes out', async () => {
    await sut.inject({ method: 'GET', url: '/api/v1/health/live' });

    expect(lines).toEqual([]);
  });

  it('should add no request id outside a request', () => {
    expect(requestIdMixin()).toEqual({});
  });
});
