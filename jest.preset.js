// Shared by the unit and the integration configs: TypeScript through swc (with decorator
// metadata, which NestJS needs) and the @farm/* path aliases of tsconfig.base.json.
const { readFileSync } = require('node:fs');
const path = require('node:path');

const swcrc = JSON.parse(readFileSync(path.join(__dirname, '.swcrc'), 'utf8'));
delete swcrc.$schema;

module.exports = {
  rootDir: __dirname,
  testEnvironment: 'node',
  transform: { '^.+\\.(t|j)s$': ['@swc/jest', { ...swcrc, swcrc: false }] },
  moduleNameMapper: {
    '^@farm/models/browser$': '<rootDir>/libs/models/src/browser.ts',
    '^@farm/(client|contracts|db|models|stats)$': '<rootDir>/libs/$1/src/index.ts',
  },
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
};
