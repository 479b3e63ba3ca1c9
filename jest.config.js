/**
 * Three projects: unit (no server, no child process: `npm run test:unit`, the inner loop),
 * integration (real files, child processes, PostgreSQL) and end-to-end (the sample app, the
 * dashboard in Chromium, the package installed into fresh apps). `npm test` runs them all.
 */
const shared = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  moduleNameMapper: { '^nestjs-ledger$': '<rootDir>/lib/index.ts' },
};

/** @type {import('jest').Config} */
module.exports = {
  // A global option: projects do not take it.
  testTimeout: 60000,
  projects: [
    { ...shared, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.spec.ts'] },
    { ...shared, displayName: 'integration', testMatch: ['<rootDir>/test/integration/**/*.spec.ts', '<rootDir>/test/guarantees/**/*.spec.ts'] },
    { ...shared, displayName: 'e2e', testMatch: ['<rootDir>/test/e2e/**/*.spec.ts', '<rootDir>/sample/test/**/*.spec.ts'] },
  ],
};
