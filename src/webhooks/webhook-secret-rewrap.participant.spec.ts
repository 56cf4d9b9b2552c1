import { EntityManager } from 'typeorm';
import { KeyRewrapRegistry } from '../crypto/key-rewrap.registry';
import { KeyringService } from '../crypto/keyring.service';
import { WebhookSubscription } from './entities/webhook-subscription.entity';
import { WebhookSecretRewrapParticipant } from './webhook-secret-rewrap.participant';

/** Seals as `<key id>:<aad>|<plaintext>`: enough to see what was opened and re-sealed with what. */
const keyring = {
  sealedKeyId: (sealed: string) => sealed.slice(0, sealed.indexOf(':')),
  openValue: jest.fn((purpose: string, sealed: string, aad: string) => {
    const [boundTo, plaintext] = sealed.slice(sealed.indexOf(':') + 1).split('|');
    if (purpose !== 'webhook' || boundTo !== aad) throw new Error('does not open');
    return plaintext;
  }),
  sealValue: jest.fn(
    (_purpose: string, plaintext: string, aad: string, keyId: string) =>
      `${keyId}:${aad}|${plaintext}`,
  ),
};

describe('WebhookSecretRewrapParticipant', () => {
  let rows: { id: string; secretSealed: string }[];
  let sut: WebhookSecretRewrapParticipant;
  const manager = {
    find: jest.fn((_entity: unknown, options: { where?: { id: string } }) =>
      Promise.resolve(options.where ? rows.filter((r) => r.id === options.where!.id) : [...rows]),
    ),
    update: jest.fn((_entity: unknown, where: { id: string }, change: { secretSealed: string }) => {
      rows.find((r) => r.id === where.id)!.secretSealed = change.secretSealed;
      return Promise.resolve({ affected: 1 });
    }),
    connection: { options: { type: 'mysql' } },
  };

  beforeEach(() => {
    jest.clearAllMocks();
    rows = [
      { id: 'a', secretSealed: 'k1:webhook-subscription:a|whsec_a' },
      { id: 'b', secretSealed: 'k2:webhook-subscription:b|whsec_b' },
      { id: 'c', secretSealed: 'k1:webhook-subscription:c|whsec_c' },
    ];
    sut = new WebhookSecretRewrapParticipant(
      new KeyRewrapRegistry(),
      keyring as unknown as KeyringService,
    );
  });

  it('should count the secrets each master key seals', async () => {
    expect(await sut.countByKey(manager as unknown as EntityManager)).toEqual({ k1: 2, k2: 1 });
  });

  it('should re-seal the secrets of other keys under the target, bound to their subscription', async () => {
    const target = { id: 'k2', key: Buffer.alloc(32) };

    expect(await sut.rewrapBatch(manager as unknown as EntityManager, target, 1)).toBe(1);
    expect(await sut.rewrapBatch(manager as unknown as EntityManager, target, 10)).toBe(1);
    expect(await sut.rewrapBatch(manager as unknown as EntityManager, target, 10)).toBe(0);

    expect(rows).toEqual([
      { id: 'a', secretSealed: 'k2:webhook-subscription:a|whsec_a' },
      { id: 'b', secretSealed: 'k2:webhook-subscription:b|whsec_b' },
      { id: 'c', secretSealed: 'k2:webhook-subscription:c|whsec_c' },
    ]);
    expect(manager.update).toHaveBeenCalledTimes(2);
    expect(manager.update.mock.calls[0][0]).toBe(WebhookSubscription);
  });

  it('should register itself as webhookSecrets', () => {
    const registry = new KeyRewrapRegistry();
    new WebhookSecretRewrapParticipant(
      registry,
      keyring as unknown as KeyringService,
    ).onModuleInit();
    expect(registry.participants().map((p) => p.name)).toEqual(['webhookSecrets']);
  });
});
