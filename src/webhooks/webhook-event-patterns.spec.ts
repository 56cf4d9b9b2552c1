import { isWebhookEventPattern } from './webhook-event-patterns';

describe('isWebhookEventPattern', () => {
  it.each([
    '*',
    'rotation.*',
    'rotation.succeeded',
    'credential.expiring',
    'credential.*',
    'incident.*',
  ])('should accept %s', (pattern) => {
    expect(isWebhookEventPattern(pattern)).toBe(true);
  });

  it.each(['billing.*', 'rotation.**', '*.failed', '', 'Rotation.*', 42, null])(
    'should refuse %j',
    (pattern) => {
      expect(isWebhookEventPattern(pattern)).toBe(false);
    },
  );
});
