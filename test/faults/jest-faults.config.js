const preset = require('../../jest.preset');

/**
 * The fault suite: the real app (spawned processes) against real MariaDB through a TCP relay the
 * tests cut, pause and restore; run in band, after the e2e suite (npm test).
 */
module.exports = {
  ...preset,
  rootDir: '../..',
  testMatch: ['<rootDir>/test/faults/**/*.fault-spec.ts'],
  testTimeout: 120_000,
};
