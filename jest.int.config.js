// Integration and end-to-end tests: *.int-spec.ts, against the real PostgreSQL and Redis
// (and real processes). Run serially: they share the database and Redis.
module.exports = {
  ...require('./jest.preset'),
  displayName: 'integration',
  testMatch: ['<rootDir>/{apps,libs,device-agent,scripts,prisma,tools}/**/*.int-spec.ts'],
  globalSetup: '<rootDir>/scripts/testing/global-setup.ts',
  testTimeout: 120000,
  maxWorkers: 1,
};
