import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DataSource } from 'typeorm';
import {
  createControllerApp,
  strictFn,
  VALIDATION_ERROR,
} from '../../../test/helpers/controller-app';
import {
  bearerOf,
  realAuthGuard,
  serviceKeyOf,
  STUB_USERS,
  userIdOf,
} from '../../../test/helpers/guard-stubs';
import { IS_PUBLIC } from '../../common/auth/auth.decorators';
import { DELIVERY_CURSOR } from '../dto/webhook-delivery.dto';
import { WEBHOOK_CURSOR, WebhookCreateDto } from '../dto/webhook-subscription.dto';
import { WebhookDelivery } from '../entities/webhook-delivery.entity';
import { WebhookSubscription } from '../entities/webhook-subscription.entity';
import { WebhookDeliveriesService } from '../webhook-deliveries.service';
import { WebhookSubscriptionsService } from '../webhook-subscriptions.service';
import { DeliveryInFlightError, WebhookNotFoundError } from '../webhook.errors';
import { WebhooksController } from './webhooks.controller';

const ID = '6f0c2a1e-3b4d-4e5f-8a9b-0c1d2e3f4a5b';
const DELIVERY_ID = '1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f';
const BASE = '/api/v1/webhooks';
const SECRET = 'whsec_shown-once-0123456789';
const BODY = { url: 'https://hooks.example.com/custos', events: ['rotation.*'] };

function subscription(): WebhookSubscription {
  return Object.assign(new WebhookSubscription(), {
    id: ID,
    url: 'https://hooks.example.com/custos',
    description: null,
    events: ['rotation.*'],
    active: true,
    startStreamSeq: '12',
    createdBy: userIdOf('admin'),
    createdAt: new Date('2026-11-01T00:00:00.000Z'),
    updatedAt: new Date('2026-11-02T00:00:00.000Z'),
  });
}

const SUBSCRIPTION_BODY = {
  id: ID,
  url: 'https://hooks.example.com/custos',
  description: null,
  events: ['rotation.*'],
  active: true,
  createdBy: userIdOf('admin'),
  createdAt: '2026-11-01T00:00:00.000Z',
  updatedAt: '2026-11-02T00:00:00.000Z',
};

function delivery(overrides: Partial<WebhookDelivery> = {}): WebhookDelivery {
  return Object.assign(new WebhookDelivery(), {
    id: DELIVERY_ID,
    subscriptionId: ID,
    streamSeq: '42',
    eventType: 'rotation.succeeded',
    payload: '{}',
    status: 'dead',
    attempts: 8,
    nextAttemptAt: new Date('2026-11-03T00:00:00.000Z'),
    claimedBy: null,
    claimExpiresAt: null,
    lastStatusCode: 500,
    lastError: 'HTTP 500',
    redeliveryOf: null,
    deliveredAt: null,
    createdAt: new Date('2026-11-02T00:00:00.000Z'),
    updatedAt: new Date('2026-11-03T00:00:00.000Z'),
    ...overrides,
  });
}

type Route = { method: 'GET' | 'POST' | 'PATCH' | 'DELETE'; url: string; payload?: object };
const ROUTES: Record<string, Route> = {
  create: { method: 'POST', url: BASE, payload: BODY },
  list: { method: 'GET', url: BASE },
  get: { method: 'GET', url: `${BASE}/${ID}` },
  update: { method: 'PATCH', url: `${BASE}/${ID}`, payload: { active: false } },
  remove: { method: 'DELETE', url: `${BASE}/${ID}` },
  rotateSecret: { method: 'POST', url: `${BASE}/${ID}/rotate-secret` },
  listDeliveries: { method: 'GET', url: `${BASE}/${ID}/deliveries` },
  redeliver: { method: 'POST', url: `${BASE}/${ID}/deliveries/${DELIVERY_ID}/redeliver` },
};

describe('WebhooksController behind the AuthGuard', () => {
  let app: NestFastifyApplication;
  const subscriptions = {
    create: strictFn('WebhookSubscriptionsService.create'),
    list: strictFn('WebhookSubscriptionsService.list'),
    get: strictFn('WebhookSubscriptionsService.get'),
    update: strictFn('WebhookSubscriptionsService.update'),
    remove: strictFn('WebhookSubscriptionsService.remove'),
    rotateSecret: strictFn('WebhookSubscriptionsService.rotateSecret'),
  };
  const deliveries = {
    list: strictFn('WebhookDeliveriesService.list'),
    redeliver: strictFn('WebhookDeliveriesService.redeliver'),
  };

  beforeAll(async () => {
    app = await createControllerApp({
      controllers: [WebhooksController],
      providers: [
        { provide: WebhookSubscriptionsService, useValue: subscriptions },
        { provide: WebhookDeliveriesService, useValue: deliveries },
        { provide: DataSource, useValue: { getRepository: () => STUB_USERS } },
        ...realAuthGuard(),
      ],
    });
  });

  afterAll(async () => {
    await app?.close();
  });

  beforeEach(() => jest.clearAllMocks());

  function expectNoServiceCalled(): void {
    for (const mock of [...Object.values(subscriptions), ...Object.values(deliveries)]) {
      expect(mock).not.toHaveBeenCalled();
    }
  }

  const call = (route: Route, headers: Record<string, string>) =>
    app.inject({ method: route.method, url: route.url, payload: route.payload, headers });
  const admin = bearerOf('admin');

  it('should mark no route public', () => {
    for (const name of Object.keys(ROUTES)) {
      const handler = WebhooksController.prototype[name as keyof WebhooksController];
      expect([name, Reflect.getMetadata(IS_PUBLIC, handler)]).toEqual([name, undefined]);
    }
  });

  it.each(Object.entries(ROUTES))('should require authentication on %s', async (_name, route) => {
    const response = await call(route, {});

    expect(response.statusCode).toBe(401);
    expectNoServiceCalled();
  });

  describe.each([
    ['an operator', bearerOf('operator')],
    ['an auditor', bearerOf('auditor')],
    ['a viewer', bearerOf('viewer')],
    ['a service account', serviceKeyOf('deployer')],
  ])('as %s', (_who, headers) => {
    it.each(Object.keys(ROUTES))('should refuse %s with 403', async (name) => {
      const response = await call(ROUTES[name], headers);

      expect(response.statusCode).toBe(403);
      expect(response.json()).toMatchObject({ statusCode: 403, message: 'Not allowed' });
      expectNoServiceCalled();
    });
  });

  it.each([
    ['GET', `${BASE}/42`],
    ['PATCH', `${BASE}/not-a-uuid`],
    ['GET', `${BASE}/42/deliveries`],
    ['POST', `${BASE}/${ID}/deliveries/42/redeliver`],
  ] as const)('should reject a bad id on %s %s', async (method, url) => {
    const response = await app.inject({ method, url, headers: admin, payload: {} });

    expect(response.statusCode).toBe(400);
    expectNoServiceCalled();
  });

  describe('POST /api/v1/webhooks', () => {
    it('should pass the validated body and the admin, and show the secret once', async () => {
      subscriptions.create.mockResolvedValueOnce({ subscription: subscription(), secret: SECRET });

      const response = await call(ROUTES.create, admin);

      expect(response.statusCode).toBe(201);
      expect(response.json()).toEqual({ ...SUBSCRIPTION_BODY, secret: SECRET });
      const [body, principal] = subscriptions.create.mock.calls[0] as [WebhookCreateDto, unknown];
      expect(body).toBeInstanceOf(WebhookCreateDto);
      expect(body).toEqual(BODY);
      expect(principal).toMatchObject({ type: 'user', id: userIdOf('admin') });
    });

    it.each([
      ['no url', { events: ['rotation.*'] }, 'url'],
      ['a file URL', { ...BODY, url: 'file:///etc/passwd' }, 'url'],
      ['a gopher URL', { ...BODY, url: 'gopher://hooks.example.com/' }, 'url'],
      ['no events', { url: BODY.url }, 'events'],
      ['an empty event list', { ...BODY, events: [] }, 'events'],
      ['an unknown event family', { ...BODY, events: ['billing.*'] }, 'events'],
      ['a malformed pattern', { ...BODY, events: ['rotation.**'] }, 'events'],
      ['a secret of its own', { ...BODY, secret: 'mine' }, 'secret'],
      ['a string for active', { ...BODY, active: 'yes' }, 'active'],
    ])('should answer 400 for %s without calling the service', async (_case, payload, field) => {
      const response = await app.inject({ method: 'POST', url: BASE, payload, headers: admin });

      expect(response.statusCode).toBe(400);
      expect(response.json()).toEqual({
        ...VALIDATION_ERROR,
        fields: [{ field, errors: expect.any(Array) }],
      });
      expectNoServiceCalled();
    });
  });

  describe('GET /api/v1/webhooks', () => {
    it('should answer a page without secrets', async () => {
      subscriptions.list.mockResolvedValueOnce({ items: [subscription()], nextCursor: null });
      const cursor = WEBHOOK_CURSOR.encode(ID);

      const response = await app.inject({
        method: 'GET',
        url: `${BASE}?limit=10&cursor=${cursor}`,
        headers: admin,
      });

      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual({ items: [SUBSCRIPTION_BODY], nextCursor: null });
      expect(subscriptions.list).toHaveBeenCalledWith(10, cursor);
    });

    it.each([
      ['a limit over 500', 'limit=501', 'limit'],
      ['a garbage cursor', 'cursor=garbage', 'cursor'],
      ['an unknown parameter', 'url=x', 'url'],
    ])('should answer 400 for %s', async (_case, query, field) => {
      const response = await app.inject({ method: 'GET', url: `${BASE}?${query}`, headers: admin });

      expect(response.statusCode).toBe(400);
      expect(response.json().fields).toEqual([{ field, errors: expect.any(Array) }]);
      expectNoServiceCalled();
    });
  });

  describe('GET /api/v1/webhooks/:id', () => {
    it('should answer 404 for a subscription that does not exist', async () => {
      subscriptions.get.mockRejectedValueOnce(new WebhookNotFoundError());

      const response = await call(ROUTES.get, admin);

      expect(response.statusCode).toBe(404);
      expect(response.json().message).toBe('Webhook not found');
    });
  });

  describe('PATCH /api/v1/webhooks/:id', () => {
    it('should pass only the fields given, and take a null description to clear it', async () => {
      subscriptions.update.mockResolvedValueOnce(subscription());

      const response = await app.inject({
        method: 'PATCH',
        url: `${BASE}/${ID}`,
        payload: { description: null, active: false },
        headers: admin,
      });

      expect(response.statusCode).toBe(200);
      expect(subscriptions.update.mock.calls[0][1]).toEqual({ description: null, active: false });
    });

    it.each([
      ['a null url', { url: null }, 'url'],
      ['a null active flag', { active: null }, 'active'],
      ['null events', { events: null }, 'events'],
    ])('should answer 400 for %s', async (_case, payload, field) => {
      const response = await app.inject({
        method: 'PATCH',
        url: `${BASE}/${ID}`,
        payload,
        headers: admin,
      });

      expect(response.statusCode).toBe(400);
      expect(response.json().fields.map((f: { field: string }) => f.field)).toEqual([field]);
      expectNoServiceCalled();
    });
  });

  describe('DELETE /api/v1/webhooks/:id', () => {
    it('should answer 204', async () => {
      subscriptions.remove.mockResolvedValueOnce(undefined);

      const response = await call(ROUTES.remove, admin);

      expect(response.statusCode).toBe(204);
      expect(subscriptions.remove).toHaveBeenCalledWith(ID, undefined);
    });
  });

  describe('POST /api/v1/webhooks/:id/rotate-secret', () => {
    it('should answer 200 with the new secret', async () => {
      subscriptions.rotateSecret.mockResolvedValueOnce({
        subscription: subscription(),
        secret: SECRET,
      });

      const response = await call(ROUTES.rotateSecret, admin);

      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual({ ...SUBSCRIPTION_BODY, secret: SECRET });
    });
  });

  describe('GET /api/v1/webhooks/:id/deliveries', () => {
    it('should pass the status filter and the page on, and map the deliveries', async () => {
      deliveries.list.mockResolvedValueOnce({ items: [delivery()], nextCursor: null });
      const cursor = DELIVERY_CURSOR.encode(`2026-11-02T00:00:00.000Z|${DELIVERY_ID}`);

      const response = await app.inject({
        method: 'GET',
        url: `${BASE}/${ID}/deliveries?status=dead&limit=5&cursor=${cursor}`,
        headers: admin,
      });

      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual({
        items: [
          {
            id: DELIVERY_ID,
            subscriptionId: ID,
            eventId: '42',
            eventType: 'rotation.succeeded',
            status: 'dead',
            attempts: 8,
            nextAttemptAt: null,
            lastStatusCode: 500,
            lastError: 'HTTP 500',
            redeliveryOf: null,
            deliveredAt: null,
            createdAt: '2026-11-02T00:00:00.000Z',
            updatedAt: '2026-11-03T00:00:00.000Z',
          },
        ],
        nextCursor: null,
      });
      expect(deliveries.list).toHaveBeenCalledWith(ID, { status: 'dead', limit: 5, cursor });
    });

    it.each([
      ['an unknown status', 'status=lost', 'status'],
      ['a cursor of another list', `cursor=${WEBHOOK_CURSOR.encode(ID)}`, 'cursor'],
    ])('should answer 400 for %s', async (_case, query, field) => {
      const response = await app.inject({
        method: 'GET',
        url: `${BASE}/${ID}/deliveries?${query}`,
        headers: admin,
      });

      expect(response.statusCode).toBe(400);
      expect(response.json().fields).toEqual([{ field, errors: expect.any(Array) }]);
      expectNoServiceCalled();
    });
  });

  describe('POST /api/v1/webhooks/:id/deliveries/:deliveryId/redeliver', () => {
    it('should answer 202 with the new delivery', async () => {
      deliveries.redeliver.mockResolvedValueOnce(
        delivery({ status: 'pending', attempts: 0, redeliveryOf: DELIVERY_ID }),
      );

      const response = await call(ROUTES.redeliver, admin);

      expect(response.statusCode).toBe(202);
      expect(response.json()).toMatchObject({
        status: 'pending',
        redeliveryOf: DELIVERY_ID,
        nextAttemptAt: '2026-11-03T00:00:00.000Z',
      });
      expect(deliveries.redeliver).toHaveBeenCalledWith(ID, DELIVERY_ID, undefined);
    });

    it('should answer 409 for a delivery still on its way', async () => {
      deliveries.redeliver.mockRejectedValueOnce(new DeliveryInFlightError('failed'));

      const response = await call(ROUTES.redeliver, admin);

      expect(response.statusCode).toBe(409);
    });
  });
});
