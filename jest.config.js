const preset = require('./jest.preset');

/** Unit and controller tests: beside the code (the server's and the CLI's), no database. */
module.exports = {
  ...preset,
  rootDir: '.',
  roots: ['<rootDir>/src', '<rootDir>/test', '<rootDir>/cli/src'],
  testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/cli/src/**/*.spec.ts'],
};
