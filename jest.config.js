// Unit tests: *.spec.ts beside the code. No network, no database.
module.exports = {
  ...require('./jest.preset'),
  displayName: 'unit',
  testMatch: ['<rootDir>/{apps,libs,device-agent,scripts}/**/*.spec.ts'],
};
