// Unit tests: *.spec.ts beside the code. No database and no Redis; some start servers and
// headless Chromium on loopback.
module.exports = {
  ...require('./jest.preset'),
  displayName: 'unit',
  testMatch: ['<rootDir>/{apps,libs,device-agent,scripts,tools}/**/*.spec.ts'],
};
