const preset = require('../../jest.preset');

/**
 * The attack suite (`npm run test:security`): the real app, spawned as `npm start` runs it, on a
 * scratch MariaDB, attacked over HTTP; a canary secret stored first must end up nowhere but in
 * the authorised reveals. Run in band: every file starts its own app and database.
 */
module.exports = {
  ...preset,
  rootDir: '../..',
  testMatch: [
    '<rootDir>/test/security/**/*.security-spec.ts',
    // Every documented route as every kind of caller (admin routes as viewer, auditor, service).
    '<rootDir>/test/access-matrix.e2e-spec.ts',
  ],
  testTimeout: 60_000,
};
