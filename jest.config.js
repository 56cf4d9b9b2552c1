const preset = require('./jest.preset');

/** Unit and controller tests: beside the code, no database. */
module.exports = {
  ...preset,
  rootDir: '.',
  roots: ['<rootDir>/src', '<rootDir>/test'],
  testMatch: ['<rootDir>/src/**/*.spec.ts'],
};
