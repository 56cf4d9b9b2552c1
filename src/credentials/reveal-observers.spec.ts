import type { EntityManager } from 'typeorm';
import { RevealObservers, RevealSeen } from './reveal-observers';

const REVEAL: RevealSeen = {
  credentialId: '5b1e6c2a-8d3f-4a7b-9c1d-2e3f4a5b6c7d',
  path: 'acme/prod/db',
  version: 2,
  via: 'path',
  principal: { type: 'service', id: 'svc', name: 'billing' },
};
const MANAGER = {} as EntityManager;

describe('RevealObservers', () => {
  it('should tell every observer in the reveal transaction, one after the other', async () => {
    const sut = new RevealObservers();
    const calls: string[] = [];
    sut.register({ onDecoyReveal: () => Promise.resolve(void calls.push('first')) });
    sut.register({ onDecoyReveal: () => Promise.resolve(void calls.push('second')) });

    await sut.decoyRevealed(MANAGER, REVEAL);

    expect(calls).toEqual(['first', 'second']);
  });

  it('should fail the reveal when an observer fails, so its transaction rolls back', async () => {
    const sut = new RevealObservers();
    const later = jest.fn(() => Promise.resolve());
    sut.register({ onDecoyReveal: () => Promise.reject(new Error('incidents down')) });
    sut.register({ onDecoyReveal: later });

    await expect(sut.decoyRevealed(MANAGER, REVEAL)).rejects.toThrow('incidents down');
    expect(later).not.toHaveBeenCalled();
  });
});
