import { ConfigError } from './config-error';
import { loadCredentialsConfig } from './credentials.config';

describe('loadCredentialsConfig', () => {
  it('should keep 10 versions, a day of grace, no mandatory reason and batches of 200 by default', () => {
    expect(loadCredentialsConfig({})).toEqual({
      maxVersions: 10,
      previousGraceSeconds: 86_400,
      revealReasonRequired: false,
      rewrapBatchSize: 200,
    });
  });

  it('should read every variable', () => {
    expect(
      loadCredentialsConfig({
        CREDENTIALS_MAX_VERSIONS: '3',
        CREDENTIALS_PREVIOUS_GRACE: 'PT0S',
        REVEAL_REASON_REQUIRED: 'true',
        KEYS_REWRAP_BATCH_SIZE: '5',
      }),
    ).toEqual({
      maxVersions: 3,
      previousGraceSeconds: 0,
      revealReasonRequired: true,
      rewrapBatchSize: 5,
    });
  });

  it.each([
    ['CREDENTIALS_MAX_VERSIONS', '1'],
    ['CREDENTIALS_MAX_VERSIONS', 'ten'],
    ['CREDENTIALS_PREVIOUS_GRACE', '24h'],
    ['CREDENTIALS_PREVIOUS_GRACE', 'P'],
    ['REVEAL_REASON_REQUIRED', 'maybe'],
    ['KEYS_REWRAP_BATCH_SIZE', '0'],
  ])('should refuse %s=%j, naming it', (name, value) => {
    expect(() => loadCredentialsConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadCredentialsConfig({ [name]: value })).toThrow(name);
  });
});
