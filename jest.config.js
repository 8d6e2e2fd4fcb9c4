/** @type {import('jest').Config} */
const transform = {
  '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json', diagnostics: false }],
};
const common = { transform, testEnvironment: 'node', moduleFileExtensions: ['ts', 'js', 'json'], rootDir: __dirname };
const setup = '<rootDir>/test/support/global-setup.ts';
const teardown = '<rootDir>/test/support/global-teardown.ts';

module.exports = {
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/test/**/*.spec.ts'],
    },
    { ...common, displayName: 'db', testMatch: ['<rootDir>/src/**/*.db-spec.ts', '<rootDir>/test/**/*.db-spec.ts'], globalSetup: setup, globalTeardown: teardown },
    { ...common, displayName: 'e2e', testMatch: ['<rootDir>/test/e2e/**/*.e2e-spec.ts'], globalSetup: setup, globalTeardown: teardown },
    { ...common, displayName: 'faults', testMatch: ['<rootDir>/test/faults/**/*.fault-spec.ts'], globalSetup: '<rootDir>/test/faults/global-setup.ts', globalTeardown: teardown },
  ],
  testTimeout: 60_000,
};
