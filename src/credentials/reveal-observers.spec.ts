import { Logger } from '@nestjs/common';
import { RevealObservers, RevealSeen } from './reveal-observers';

const REVEAL: RevealSeen = {
  credentialId: '5b1e6c2a-8d3f-4a7b-9c1d-2e3f4a5b6c7d',
  path: 'acme/prod/db',
  version: 2,
  via: 'path',
  principal: { type: 'service', id: 'svc', name: 'billing' },
  decoy: true,
};

describe('RevealObservers', () => {
  it('should tell every observer without waiting for it', () => {
    const sut = new RevealObservers();
    const first = { afterReveal: jest.fn(() => new Promise<void>(() => undefined)) };
    const second = { afterReveal: jest.fn(() => Promise.resolve()) };
    sut.register(first);
    sut.register(second);

    sut.notify(REVEAL);

    expect(first.afterReveal).toHaveBeenCalledWith(REVEAL);
    expect(second.afterReveal).toHaveBeenCalledWith(REVEAL);
  });

  it('should log an observer that fails and never throw to the reveal', async () => {
    const error = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    const sut = new RevealObservers();
    sut.register({ afterReveal: () => Promise.reject(new Error('incidents down')) });

    expect(() => sut.notify(REVEAL)).not.toThrow();
    await new Promise((resolve) => setImmediate(resolve));

    expect(error).toHaveBeenCalledWith(expect.stringContaining('incidents down'));
    error.mockRestore();
  });
});
