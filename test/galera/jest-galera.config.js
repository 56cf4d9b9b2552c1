const preset = require('../../jest.preset');

/**
 * The Galera suite: a real three-node MariaDB Galera cluster started by the tests (galera-4,
 * ports 3401-3403), Custos instances on it; run in band, after the fault suite (npm test).
 */
module.exports = {
  ...preset,
  rootDir: '../..',
  testMatch: ['<rootDir>/test/galera/**/*.galera-spec.ts'],
  testTimeout: 180_000,
};
