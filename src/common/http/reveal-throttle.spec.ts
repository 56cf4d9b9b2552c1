import type { ExecutionContext } from '@nestjs/common';
import { RevealThrottled, revealThrottler } from './reveal-throttle';

class Routes {
  @RevealThrottled()
  reveal(): void {}

  list(): void {}
}

function contextOf(handler: () => void, principal?: object): ExecutionContext {
  return {
    getHandler: () => handler,
    switchToHttp: () => ({ getRequest: () => ({ principal }) }),
  } as unknown as ExecutionContext;
}

describe('revealThrottler', () => {
  const throttler = revealThrottler(5);
  const alice = { type: 'user', id: 'u-1' };

  it('should count only reveal routes, and only once the caller is known', () => {
    expect(throttler.skipIf!(contextOf(Routes.prototype.reveal, alice))).toBe(false);
    // The global guard runs before authentication: no principal yet, nothing counted.
    expect(throttler.skipIf!(contextOf(Routes.prototype.reveal))).toBe(true);
    expect(throttler.skipIf!(contextOf(Routes.prototype.list, alice))).toBe(true);
  });

  it('should keep one budget per principal over every reveal route', () => {
    const tracker = throttler.getTracker!({ principal: alice }, contextOf(Routes.prototype.reveal));
    expect(tracker).toBe('user:u-1');
    const key = throttler.generateKey!(contextOf(Routes.prototype.reveal), 'user:u-1', 'reveal');
    expect(key).toBe(
      throttler.generateKey!(contextOf(Routes.prototype.list), 'user:u-1', 'reveal'),
    );
    expect(
      throttler.getTracker!(
        { principal: { type: 'service', id: 'u-1' } },
        contextOf(Routes.prototype.reveal),
      ),
    ).toBe('service:u-1');
  });
});
