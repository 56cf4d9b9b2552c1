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
import { IncidentContainment } from '../containment/incident-containment';
import { IncidentCreateDto } from '../dto/incident.dto';
import { Incident } from '../entities/incident.entity';
import { IncidentTimelineEntry } from '../entities/incident-timeline-entry.entity';
import { IllegalTransitionError, IncidentNotFoundError } from '../incident.errors';
import { IncidentsService } from '../incidents.service';
import { IncidentsController } from './incidents.controller';

const ID = '6f0c2a1e-3b4d-4e5f-8a9b-0c1d2e3f4a5b';
const CREDENTIAL_ID = '1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f';
const ACCOUNT_ID = '2f1c7a52-3f0e-4f43-9f55-1f4a4c3f8b11';
const BASE = '/api/v1/incidents';
const CREATE = { type: 'credential_leak', severity: 'high', title: 'Key pasted in a gist' };
const PRINCIPALS = { principals: [{ type: 'service_account', id: ACCOUNT_ID }] };
const CREDENTIALS = { credentialIds: [CREDENTIAL_ID] };
const SCOPE = { credentialIds: [CREDENTIAL_ID], principals: PRINCIPALS.principals };

function incident(overrides: Partial<Incident> = {}): Incident {
  return Object.assign(new Incident(), {
    id: ID,
    type: 'credential_leak',
    severity: 'high',
    status: 'investigating',
    title: 'Key pasted in a gist',
    description: null,
    findings: null,
    remediation: null,
    affected: null,
    assigneeId: null,
    detectedAt: new Date('2026-11-01T00:00:00.000Z'),
    containedAt: null,
    resolvedAt: null,
    dedupeKey: null,
    dedupeSlot: null,
    freeze: false,
    createdBy: userIdOf('operator'),
    createdAt: new Date('2026-11-01T00:00:00.000Z'),
    updatedAt: new Date('2026-11-02T00:00:00.000Z'),
    rowVersion: 3,
    ...overrides,
  });
}

const INCIDENT_BODY = {
  id: ID,
  type: 'credential_leak',
  severity: 'high',
  status: 'investigating',
  title: 'Key pasted in a gist',
  description: null,
  findings: null,
  remediation: null,
  affected: null,
  assigneeId: null,
  detectedAt: '2026-11-01T00:00:00.000Z',
  containedAt: null,
  resolvedAt: null,
  dedupeKey: null,
  freeze: false,
  createdBy: userIdOf('operator'),
  createdAt: '2026-11-01T00:00:00.000Z',
  updatedAt: '2026-11-02T00:00:00.000Z',
  rowVersion: 3,
};

function entry(): IncidentTimelineEntry {
  return Object.assign(new IncidentTimelineEntry(), {
    id: 'a0b1c2d3-e4f5-4a6b-8c7d-9e0f1a2b3c4d',
    incidentId: ID,
    seq: 2,
    kind: 'comment',
    actorType: 'user',
    actorId: userIdOf('operator'),
    actorDisplay: 'usr_operator@example.com',
    text: 'Looked at the gist',
    details: '{}',
    auditSeq: '41',
    occurredAt: new Date('2026-11-01T01:00:00.000Z'),
  });
}

const ENTRY_BODY = {
  seq: 2,
  kind: 'comment',
  actor: { type: 'user', id: userIdOf('operator'), display: 'usr_operator@example.com' },
  text: 'Looked at the gist',
  details: {},
  auditSeq: '41',
  occurredAt: '2026-11-01T01:00:00.000Z',
};

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';
interface Route {
  method: Method;
  url: string;
  payload?: object;
  write: boolean;
  status: number;
  /** The mock to arrange, and what it answers. */
  arrange: (mocks: Mocks) => void;
}
type Mocks = {
  incidents: Record<string, jest.Mock>;
  containment: Record<string, jest.Mock>;
};

const ROUTES: Record<string, Route> = {
  create: {
    method: 'POST',
    url: BASE,
    payload: CREATE,
    write: true,
    status: 201,
    arrange: (m) => m.incidents.create.mockResolvedValueOnce(incident()),
  },
  list: {
    method: 'GET',
    url: BASE,
    write: false,
    status: 200,
    arrange: (m) => m.incidents.list.mockResolvedValueOnce({ items: [], nextCursor: null }),
  },
  get: {
    method: 'GET',
    url: `${BASE}/${ID}`,
    write: false,
    status: 200,
    arrange: (m) =>
      m.incidents.get.mockResolvedValueOnce({ incident: incident(), openActions: [] }),
  },
  update: {
    method: 'PATCH',
    url: `${BASE}/${ID}`,
    payload: { severity: 'critical' },
    write: true,
    status: 200,
    arrange: (m) => m.incidents.update.mockResolvedValueOnce(incident()),
  },
  transition: {
    method: 'POST',
    url: `${BASE}/${ID}/transition`,
    payload: { to: 'contained', note: 'Key revoked' },
    write: true,
    status: 200,
    arrange: (m) => m.incidents.transition.mockResolvedValueOnce(incident()),
  },
  comment: {
    method: 'POST',
    url: `${BASE}/${ID}/comments`,
    payload: { text: 'Looked at the gist' },
    write: true,
    status: 201,
    arrange: (m) => m.incidents.comment.mockResolvedValueOnce(entry()),
  },
  timeline: {
    method: 'GET',
    url: `${BASE}/${ID}/timeline`,
    write: false,
    status: 200,
    arrange: (m) =>
      m.incidents.timeline.mockResolvedValueOnce({
        items: [],
        nextCursor: null,
        integrity: { ok: true, checked: 0, problems: [] },
      }),
  },
  scope: {
    method: 'GET',
    url: `${BASE}/${ID}/scope`,
    write: false,
    status: 200,
    arrange: (m) => m.incidents.scope.mockResolvedValueOnce(SCOPE),
  },
  linkCredentials: {
    method: 'POST',
    url: `${BASE}/${ID}/credentials`,
    payload: CREDENTIALS,
    write: true,
    status: 200,
    arrange: (m) => m.incidents.linkCredentials.mockResolvedValueOnce(SCOPE),
  },
  unlinkCredentials: {
    method: 'DELETE',
    url: `${BASE}/${ID}/credentials`,
    payload: CREDENTIALS,
    write: true,
    status: 200,
    arrange: (m) => m.incidents.unlinkCredentials.mockResolvedValueOnce(SCOPE),
  },
  linkPrincipals: {
    method: 'POST',
    url: `${BASE}/${ID}/principals`,
    payload: PRINCIPALS,
    write: true,
    status: 200,
    arrange: (m) => m.incidents.linkPrincipals.mockResolvedValueOnce(SCOPE),
  },
  unlinkPrincipals: {
    method: 'DELETE',
    url: `${BASE}/${ID}/principals`,
    payload: PRINCIPALS,
    write: true,
    status: 200,
    arrange: (m) => m.incidents.unlinkPrincipals.mockResolvedValueOnce(SCOPE),
  },
  contain: {
    method: 'POST',
    url: `${BASE}/${ID}/contain`,
    payload: { note: 'Cut it off', freeze: true },
    write: true,
    status: 200,
    arrange: (m) =>
      m.containment.contain.mockResolvedValueOnce({
        incident: incident({ status: 'contained' }),
        credentials: [],
        principals: [],
      }),
  },
};

const WRITES = Object.keys(ROUTES).filter((name) => ROUTES[name].write);
const READS = Object.keys(ROUTES).filter((name) => !ROUTES[name].write);

describe('IncidentsController behind the AuthGuard and the validation pipe', () => {
  let app: NestFastifyApplication;
  const mocks: Mocks = {
    incidents: {
      create: strictFn('IncidentsService.create'),
      list: strictFn('IncidentsService.list'),
      get: strictFn('IncidentsService.get'),
      update: strictFn('IncidentsService.update'),
      transition: strictFn('IncidentsService.transition'),
      comment: strictFn('IncidentsService.comment'),
      timeline: strictFn('IncidentsService.timeline'),
      scope: strictFn('IncidentsService.scope'),
      linkCredentials: strictFn('IncidentsService.linkCredentials'),
      unlinkCredentials: strictFn('IncidentsService.unlinkCredentials'),
      linkPrincipals: strictFn('IncidentsService.linkPrincipals'),
      unlinkPrincipals: strictFn('IncidentsService.unlinkPrincipals'),
    },
    containment: { contain: strictFn('IncidentContainment.contain') },
  };

  beforeAll(async () => {
    app = await createControllerApp({
      controllers: [IncidentsController],
      providers: [
        { provide: IncidentsService, useValue: mocks.incidents },
        { provide: IncidentContainment, useValue: mocks.containment },
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
    for (const mock of [...Object.values(mocks.incidents), ...Object.values(mocks.containment)]) {
      expect(mock).not.toHaveBeenCalled();
    }
  }

  const call = (route: Route, headers: Record<string, string>) =>
    app.inject({ method: route.method, url: route.url, payload: route.payload, headers });
  const operator = bearerOf('operator');

  it('should mark no route public', () => {
    for (const name of Object.keys(ROUTES)) {
      const handler = IncidentsController.prototype[name as keyof IncidentsController];
      expect([name, Reflect.getMetadata(IS_PUBLIC, handler)]).toEqual([name, undefined]);
    }
  });

  it.each(Object.keys(ROUTES))('should require authentication on %s', async (name) => {
    const response = await call(ROUTES[name], {});

    expect(response.statusCode).toBe(401);
    expectNoServiceCalled();
  });

  describe.each([
    ['an admin', bearerOf('admin')],
    ['an operator', bearerOf('operator')],
  ])('as %s', (_who, headers) => {
    it.each(Object.keys(ROUTES))('should let %s through', async (name) => {
      ROUTES[name].arrange(mocks);

      const response = await call(ROUTES[name], headers);

      expect(response.statusCode).toBe(ROUTES[name].status);
    });
  });

  describe('as an auditor', () => {
    it.each(READS)('should let %s through', async (name) => {
      ROUTES[name].arrange(mocks);

      const response = await call(ROUTES[name], bearerOf('auditor'));

      expect(response.statusCode).toBe(ROUTES[name].status);
    });

    it.each(WRITES)('should refuse %s with 403', async (name) => {
      const response = await call(ROUTES[name], bearerOf('auditor'));

      expect(response.statusCode).toBe(403);
      expect(response.json()).toMatchObject({ statusCode: 403, message: 'Not allowed' });
      expectNoServiceCalled();
    });
  });

  describe.each([
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

  it.each(
    Object.keys(ROUTES)
      .filter((name) => ROUTES[name].url !== BASE)
      .map((name) => [name, ROUTES[name]] as const),
  )('should reject an id that is not a UUID v4 on %s', async (_name, route) => {
    const response = await call({ ...route, url: route.url.replace(ID, 'not-a-uuid') }, operator);

    expect(response.statusCode).toBe(400);
    expectNoServiceCalled();
  });

  describe('POST /api/v1/incidents', () => {
    it('should pass the validated body and the caller, and answer the incident', async () => {
      mocks.incidents.create.mockResolvedValueOnce(incident());

      const response = await call(ROUTES.create, operator);

      expect(response.statusCode).toBe(201);
      expect(response.json()).toEqual(INCIDENT_BODY);
      const [body, principal] = mocks.incidents.create.mock.calls[0] as [
        IncidentCreateDto,
        unknown,
      ];
      expect(body).toBeInstanceOf(IncidentCreateDto);
      expect(body).toEqual(CREATE);
      expect(principal).toMatchObject({ type: 'user', id: userIdOf('operator') });
    });

    it.each([
      ['an unknown type', { ...CREATE, type: 'alien_invasion' }, 'type'],
      ['no type', { severity: 'high', title: 'x' }, 'type'],
      ['an unknown severity', { ...CREATE, severity: 'apocalyptic' }, 'severity'],
      ['an empty title', { ...CREATE, title: '' }, 'title'],
      ['an assignee that is not a UUID', { ...CREATE, assigneeId: 'bob' }, 'assigneeId'],
      [
        'a detection time that is not ISO 8601',
        { ...CREATE, detectedAt: 'yesterday' },
        'detectedAt',
      ],
      ['a status of its own', { ...CREATE, status: 'resolved' }, 'status'],
      ['an extra field', { ...CREATE, owner: 'me' }, 'owner'],
    ])('should answer 400 for %s without calling the service', async (_case, payload, field) => {
      const response = await app.inject({ method: 'POST', url: BASE, payload, headers: operator });

      expect(response.statusCode).toBe(400);
      expect(response.json()).toEqual({
        ...VALIDATION_ERROR,
        fields: [{ field, errors: expect.any(Array) }],
      });
      expectNoServiceCalled();
    });
  });

  describe('GET /api/v1/incidents', () => {
    it('should pass the filters on and map the page', async () => {
      mocks.incidents.list.mockResolvedValueOnce({ items: [incident()], nextCursor: null });

      const response = await app.inject({
        method: 'GET',
        url: `${BASE}?status=investigating&type=credential_leak&severity=high&limit=10`,
        headers: bearerOf('auditor'),
      });

      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual({ items: [INCIDENT_BODY], nextCursor: null });
      expect(mocks.incidents.list).toHaveBeenCalledWith({
        status: 'investigating',
        type: 'credential_leak',
        severity: 'high',
        limit: 10,
      });
    });

    it.each([
      ['an unknown status', 'status=closed', 'status'],
      ['an unknown type', 'type=alien_invasion', 'type'],
      ['an unknown severity', 'severity=apocalyptic', 'severity'],
      ['an assignee that is not a UUID', 'assignee=bob', 'assignee'],
      ['a limit over 200', 'limit=201', 'limit'],
      ['a garbage cursor', 'cursor=garbage', 'cursor'],
      ['an unknown parameter', 'owner=me', 'owner'],
    ])('should answer 400 for %s', async (_case, query, field) => {
      const response = await app.inject({
        method: 'GET',
        url: `${BASE}?${query}`,
        headers: operator,
      });

      expect(response.statusCode).toBe(400);
      expect(response.json()).toEqual({
        ...VALIDATION_ERROR,
        fields: [{ field, errors: expect.any(Array) }],
      });
      expectNoServiceCalled();
    });
  });

  describe('GET /api/v1/incidents/:id', () => {
    it('should answer the incident with its open actions', async () => {
      const credentialId = '7d1c2b3a-4e5f-4a6b-9c8d-0e1f2a3b4c5d';
      mocks.incidents.get.mockResolvedValueOnce({
        incident: incident(),
        openActions: [
          {
            credentialId,
            path: 'acme/prod/smtp',
            action: 'rotate_manually',
            description: 'acme/prod/smtp has no automatic rotator: …',
            runId: null,
            since: new Date('2026-11-01T02:00:00.000Z'),
          },
        ],
      });

      const response = await call(ROUTES.get, bearerOf('auditor'));

      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual({
        ...INCIDENT_BODY,
        openActions: [
          {
            credentialId,
            path: 'acme/prod/smtp',
            action: 'rotate_manually',
            description: 'acme/prod/smtp has no automatic rotator: …',
            runId: null,
            since: '2026-11-01T02:00:00.000Z',
          },
        ],
      });
      expect(mocks.incidents.get).toHaveBeenCalledWith(ID);
    });

    it('should answer 404 for an incident that does not exist', async () => {
      mocks.incidents.get.mockRejectedValueOnce(new IncidentNotFoundError());

      const response = await call(ROUTES.get, operator);

      expect(response.statusCode).toBe(404);
      expect(response.json().message).toBe('Incident not found');
    });
  });

  describe('PATCH /api/v1/incidents/:id', () => {
    it('should pass the fields given and the If-Match row version', async () => {
      mocks.incidents.update.mockResolvedValueOnce(incident());

      const response = await app.inject({
        method: 'PATCH',
        url: `${BASE}/${ID}`,
        payload: { severity: 'critical', description: null },
        headers: { ...operator, 'if-match': '"3"' },
      });

      expect(response.statusCode).toBe(200);
      const [id, body, expected] = mocks.incidents.update.mock.calls[0] as [string, object, number];
      expect([id, body, expected]).toEqual([ID, { severity: 'critical', description: null }, 3]);
    });

    it.each([
      ['an unknown severity', { severity: 'apocalyptic' }, 'severity'],
      ['a null severity', { severity: null }, 'severity'],
      ['a null title', { title: null }, 'title'],
      ['a status, which only transition changes', { status: 'resolved' }, 'status'],
      ['a type, which is fixed', { type: 'phishing' }, 'type'],
      ['an extra field', { owner: 'me' }, 'owner'],
    ])('should answer 400 for %s', async (_case, payload, field) => {
      const response = await app.inject({
        method: 'PATCH',
        url: `${BASE}/${ID}`,
        payload,
        headers: operator,
      });

      expect(response.statusCode).toBe(400);
      expect(response.json()).toEqual({
        ...VALIDATION_ERROR,
        fields: [{ field, errors: expect.any(Array) }],
      });
      expectNoServiceCalled();
    });
  });

  describe('POST /api/v1/incidents/:id/transition', () => {
    it('should pass the move and the note on', async () => {
      mocks.incidents.transition.mockResolvedValueOnce(incident({ status: 'contained' }));

      const response = await call(ROUTES.transition, operator);

      expect(response.statusCode).toBe(200);
      expect(response.json()).toMatchObject({ id: ID, status: 'contained' });
      expect(mocks.incidents.transition.mock.calls[0].slice(0, 3)).toEqual([
        ID,
        'contained',
        'Key revoked',
      ]);
    });

    it('should answer 409 for a move the workflow does not allow', async () => {
      mocks.incidents.transition.mockRejectedValueOnce(
        new IllegalTransitionError('investigating', 'monitoring', ['contained']),
      );

      const response = await app.inject({
        method: 'POST',
        url: `${BASE}/${ID}/transition`,
        payload: { to: 'monitoring', note: 'too early' },
        headers: operator,
      });

      expect(response.statusCode).toBe(409);
    });

    it.each([
      ['no note', { to: 'contained' }, 'note'],
      ['an empty note', { to: 'contained', note: '' }, 'note'],
      ['a note of only spaces', { to: 'contained', note: '   ' }, 'note'],
      ['a note of only line breaks and tabs', { to: 'contained', note: '\n\t\r\n' }, 'note'],
      ['a note that is not text', { to: 'contained', note: 42 }, 'note'],
      ['no target', { note: 'why' }, 'to'],
      ['an unknown target', { to: 'closed', note: 'why' }, 'to'],
      ['an extra field', { to: 'contained', note: 'why', at: '2026-11-01T00:00:00.000Z' }, 'at'],
    ])('should answer 400 for %s', async (_case, payload, field) => {
      const response = await app.inject({
        method: 'POST',
        url: `${BASE}/${ID}/transition`,
        payload,
        headers: operator,
      });

      expect(response.statusCode).toBe(400);
      expect(response.json()).toEqual({
        ...VALIDATION_ERROR,
        fields: [{ field, errors: expect.any(Array) }],
      });
      expectNoServiceCalled();
    });
  });

  describe('POST /api/v1/incidents/:id/comments', () => {
    it('should answer the timeline entry', async () => {
      mocks.incidents.comment.mockResolvedValueOnce(entry());

      const response = await call(ROUTES.comment, operator);

      expect(response.statusCode).toBe(201);
      expect(response.json()).toEqual(ENTRY_BODY);
      expect(mocks.incidents.comment.mock.calls[0].slice(0, 2)).toEqual([ID, 'Looked at the gist']);
    });

    it.each([
      ['no text', {}, 'text'],
      ['an empty text', { text: '' }, 'text'],
      ['a text of only whitespace', { text: ' \n\t ' }, 'text'],
      ['an extra field', { text: 'x', kind: 'action' }, 'kind'],
    ])('should answer 400 for %s', async (_case, payload, field) => {
      const response = await app.inject({
        method: 'POST',
        url: `${BASE}/${ID}/comments`,
        payload,
        headers: operator,
      });

      expect(response.statusCode).toBe(400);
      expect(response.json()).toEqual({
        ...VALIDATION_ERROR,
        fields: [{ field, errors: expect.any(Array) }],
      });
      expectNoServiceCalled();
    });
  });

  describe('GET /api/v1/incidents/:id/timeline', () => {
    it('should map the entries with their verification and the integrity summary', async () => {
      const integrity = {
        ok: false,
        checked: 1,
        problems: [{ seq: 1, auditSeq: '7', problem: 'altered' as const }],
      };
      mocks.incidents.timeline.mockResolvedValueOnce({
        items: [{ entry: entry(), verified: false }],
        nextCursor: null,
        integrity,
      });

      const response = await app.inject({
        method: 'GET',
        url: `${BASE}/${ID}/timeline?limit=5`,
        headers: bearerOf('auditor'),
      });

      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual({
        items: [{ ...ENTRY_BODY, verified: false }],
        nextCursor: null,
        integrity,
      });
      expect(mocks.incidents.timeline).toHaveBeenCalledWith(ID, { limit: 5 });
    });

    it.each([
      ['a limit over 500', 'limit=501', 'limit'],
      ['a garbage cursor', 'cursor=garbage', 'cursor'],
      ['an unknown parameter', 'kind=comment', 'kind'],
    ])('should answer 400 for %s', async (_case, query, field) => {
      const response = await app.inject({
        method: 'GET',
        url: `${BASE}/${ID}/timeline?${query}`,
        headers: operator,
      });

      expect(response.statusCode).toBe(400);
      expect(response.json().fields).toEqual([{ field, errors: expect.any(Array) }]);
      expectNoServiceCalled();
    });
  });

  describe.each([
    ['POST', 'linkCredentials'],
    ['DELETE', 'unlinkCredentials'],
  ] as const)('%s /api/v1/incidents/:id/credentials', (method, name) => {
    it('should pass the ids on and answer the scope', async () => {
      mocks.incidents[name].mockResolvedValueOnce(SCOPE);

      const response = await call(ROUTES[name], operator);

      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual(SCOPE);
      expect(mocks.incidents[name].mock.calls[0].slice(0, 2)).toEqual([ID, [CREDENTIAL_ID]]);
    });

    it.each([
      ['no ids', {}, 'credentialIds'],
      ['an empty list', { credentialIds: [] }, 'credentialIds'],
      ['an id that is not a UUID', { credentialIds: ['nope'] }, 'credentialIds'],
      ['an extra field', { ...CREDENTIALS, all: true }, 'all'],
    ])('should answer 400 for %s', async (_case, payload, field) => {
      const response = await app.inject({
        method,
        url: `${BASE}/${ID}/credentials`,
        payload,
        headers: operator,
      });

      expect(response.statusCode).toBe(400);
      expect(response.json()).toEqual({
        ...VALIDATION_ERROR,
        fields: [{ field, errors: expect.any(Array) }],
      });
      expectNoServiceCalled();
    });
  });

  describe.each([
    ['POST', 'linkPrincipals'],
    ['DELETE', 'unlinkPrincipals'],
  ] as const)('%s /api/v1/incidents/:id/principals', (method, name) => {
    it('should pass the principals on and answer the scope', async () => {
      mocks.incidents[name].mockResolvedValueOnce(SCOPE);

      const response = await call(ROUTES[name], operator);

      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual(SCOPE);
      expect(mocks.incidents[name].mock.calls[0].slice(0, 2)).toEqual([ID, PRINCIPALS.principals]);
    });

    it.each([
      ['no principals', {}, 'principals'],
      ['an empty list', { principals: [] }, 'principals'],
      [
        'an unknown principal type',
        { principals: [{ type: 'group', id: ACCOUNT_ID }] },
        'principals.0.type',
      ],
      [
        'a principal id that is not a UUID',
        { principals: [{ type: 'user', id: 'bob' }] },
        'principals.0.id',
      ],
      ['an extra field', { ...PRINCIPALS, reason: 'x' }, 'reason'],
    ])('should answer 400 for %s', async (_case, payload, field) => {
      const response = await app.inject({
        method,
        url: `${BASE}/${ID}/principals`,
        payload,
        headers: operator,
      });

      expect(response.statusCode).toBe(400);
      expect(response.json()).toEqual({
        ...VALIDATION_ERROR,
        fields: [{ field, errors: expect.any(Array) }],
      });
      expectNoServiceCalled();
    });
  });

  describe('POST /api/v1/incidents/:id/contain', () => {
    it('should pass the note, the freeze and the caller on', async () => {
      mocks.containment.contain.mockResolvedValueOnce({
        incident: incident({ status: 'contained' }),
        credentials: [],
        principals: [],
      });

      const response = await call(ROUTES.contain, operator);

      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual({
        incident: { ...INCIDENT_BODY, status: 'contained' },
        credentials: [],
        principals: [],
      });
      const [id, body, principal] = mocks.containment.contain.mock.calls[0] as [
        string,
        object,
        unknown,
      ];
      expect([id, body]).toEqual([ID, { note: 'Cut it off', freeze: true }]);
      expect(principal).toMatchObject({ type: 'user', id: userIdOf('operator') });
    });

    it.each([
      ['a freeze that is not a boolean', { freeze: 'yes' }, 'freeze'],
      ['a note that is not text', { note: 42 }, 'note'],
      ['a blank note', { note: '  \n ' }, 'note'],
      ['an extra field', { graceSeconds: 60 }, 'graceSeconds'],
    ])('should answer 400 for %s', async (_case, payload, field) => {
      const response = await app.inject({
        method: 'POST',
        url: `${BASE}/${ID}/contain`,
        payload,
        headers: operator,
      });

      expect(response.statusCode).toBe(400);
      expect(response.json()).toEqual({
        ...VALIDATION_ERROR,
        fields: [{ field, errors: expect.any(Array) }],
      });
      expectNoServiceCalled();
    });
  });
});
