import { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyReply } from 'fastify';
import { DataSource } from 'typeorm';
import {
  createControllerApp,
  strictFn,
  VALIDATION_ERROR,
} from '../../../test/helpers/controller-app';
import {
  bearerOf,
  realAuthGuard,
  serviceIdOf,
  serviceKeyOf,
  STUB_USERS,
  userIdOf,
} from '../../../test/helpers/guard-stubs';
import { IS_PUBLIC, ROLES } from '../../common/auth/auth.decorators';
import { EventStreamService } from '../stream/event-stream.service';
import { EventsController } from './events.controller';

const URL = '/api/v1/events';

describe('EventsController behind the AuthGuard', () => {
  let app: NestFastifyApplication;
  const streams = { open: strictFn('EventStreamService.open') };

  /** Stands in for a stream: answers at once, as the real one would start to. */
  function streamOpens(): void {
    streams.open.mockImplementationOnce((_request: unknown, reply: FastifyReply) => {
      reply.hijack();
      reply.raw.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8' });
      reply.raw.end('retry: 3000\nid: 7\nevent: ready\ndata: {"streamSeq":"7"}\n\n');
      return Promise.resolve();
    });
  }

  beforeAll(async () => {
    app = await createControllerApp({
      controllers: [EventsController],
      providers: [
        { provide: EventStreamService, useValue: streams },
        { provide: DataSource, useValue: { getRepository: () => STUB_USERS } },
        ...realAuthGuard(),
      ],
    });
  });

  afterAll(async () => {
    await app?.close();
  });

  beforeEach(() => jest.clearAllMocks());

  it('should be neither public nor limited to roles: every principal may listen', () => {
    expect(Reflect.getMetadata(IS_PUBLIC, EventsController.prototype.stream)).toBeUndefined();
    expect(Reflect.getMetadata(ROLES, EventsController.prototype.stream)).toBeUndefined();
  });

  it('should require authentication', async () => {
    const response = await app.inject({ method: 'GET', url: URL });

    expect(response.statusCode).toBe(401);
    expect(streams.open).not.toHaveBeenCalled();
  });

  it.each([
    ['an admin', bearerOf('admin'), { type: 'user', id: userIdOf('admin') }],
    ['an operator', bearerOf('operator'), { type: 'user', id: userIdOf('operator') }],
    ['an auditor', bearerOf('auditor'), { type: 'user', id: userIdOf('auditor') }],
    ['a viewer', bearerOf('viewer'), { type: 'user', id: userIdOf('viewer') }],
    ['a service account', serviceKeyOf('billing'), { type: 'service', id: serviceIdOf('billing') }],
  ])(
    'should open the stream for %s, from now on and for every type',
    async (_who, headers, who) => {
      streamOpens();

      const response = await app.inject({ method: 'GET', url: URL, headers });

      expect(response.statusCode).toBe(200);
      expect(response.headers['content-type']).toBe('text/event-stream; charset=utf-8');
      expect(response.body).toContain('event: ready');
      const [, , principal, options] = streams.open.mock.calls[0] as unknown[];
      expect(principal).toMatchObject(who);
      expect(options).toEqual({ after: undefined, types: undefined });
    },
  );

  it('should resume after Last-Event-ID, which wins over the query parameter', async () => {
    streamOpens();

    const response = await app.inject({
      method: 'GET',
      url: `${URL}?lastEventId=5&types=rotation.*,credential.expiring&types=rotation.failed`,
      headers: { ...serviceKeyOf('billing'), 'last-event-id': '42' },
    });

    expect(response.statusCode).toBe(200);
    expect(streams.open.mock.calls[0][3]).toEqual({
      after: '42',
      types: ['rotation.*', 'credential.expiring', 'rotation.failed'],
    });
  });

  it('should resume after the query parameter without the header', async () => {
    streamOpens();

    await app.inject({
      method: 'GET',
      url: `${URL}?lastEventId=5`,
      headers: serviceKeyOf('billing'),
    });

    expect(streams.open.mock.calls[0][3]).toEqual({ after: '5', types: undefined });
  });

  it.each([
    ['a Last-Event-ID that is no number', { 'last-event-id': '12abc' }, '', 'Last-Event-ID'],
    ['a negative lastEventId', {}, '?lastEventId=-1', 'lastEventId'],
    ['a lastEventId in exponent form', {}, '?lastEventId=1e3', 'lastEventId'],
    ['a malformed type', {}, '?types=rotation.**', 'types'],
    ['an unknown parameter', {}, '?since=3', 'since'],
  ])('should reject %s with 400 (a bad id)', async (_case, extra, query, field) => {
    const response = await app.inject({
      method: 'GET',
      url: `${URL}${query}`,
      headers: { ...serviceKeyOf('billing'), ...extra },
    });

    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({
      ...VALIDATION_ERROR,
      fields: [{ field, errors: expect.any(Array) }],
    });
    expect(streams.open).not.toHaveBeenCalled();
  });
});
