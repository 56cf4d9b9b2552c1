const preset = require('../jest.preset');

/** End-to-end tests: the real app over HTTP against real MariaDB (and the SQLite default). */
module.exports = {
  ...preset,
  rootDir: '..',
  testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'],
  testTimeout: 60_000,
};
