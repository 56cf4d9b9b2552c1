import type { TestApp } from './test-app';

export interface GrantSpec {
  pathPattern: string;
  capabilities: string[];
}

/**
 * A service account with an API key and the given grants, made over HTTP by an admin; returns the
 * headers to call as it and its id.
 */
export async function serviceWithGrants(
  sut: TestApp,
  adminAuthorization: string,
  grants: GrantSpec[],
  name = `svc-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`,
): Promise<{ id: string; headers: Record<string, string> }> {
  const admin = { authorization: adminAuthorization };
  const account = await sut.http
    .post('/api/v1/service-accounts')
    .set(admin)
    .send({ name })
    .expect(201);
  const id = (account.body as { id: string }).id;
  const key = await sut.http
    .post(`/api/v1/service-accounts/${id}/keys`)
    .set(admin)
    .send({})
    .expect(201);
  for (const grant of grants) {
    await sut.http
      .post('/api/v1/grants')
      .set(admin)
      .send({ principalType: 'service_account', principalId: id, ...grant })
      .expect(201);
  }
  return { id, headers: { 'x-api-key': (key.body as { apiKey: string }).apiKey } };
}
