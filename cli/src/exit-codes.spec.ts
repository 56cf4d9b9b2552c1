import { exitCodeFor } from './exit-codes';

describe('exitCodeFor', () => {
  it("should pass the child's exit code through", () => {
    expect(exitCodeFor(0, null)).toBe(0);
    expect(exitCodeFor(7, null)).toBe(7);
  });

  it('should answer 128 + the signal number for a child ended by a signal', () => {
    expect(exitCodeFor(null, 'SIGTERM')).toBe(143);
    expect(exitCodeFor(null, 'SIGINT')).toBe(130);
    expect(exitCodeFor(null, 'SIGKILL')).toBe(137);
  });
});
