// Fixed time zone and quiet logs for every test file; tests that check logs set their own level.
process.env.TZ = 'UTC';
process.env.LOG_LEVEL ??= 'silent';
process.env.NODE_ENV ??= 'test';
