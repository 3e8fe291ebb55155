import { defineConfig } from 'vitest/config';

// Three kinds of test, each runnable on its own: `npm run test:unit|test:int|test:e2e`.
const jsonReport = process.env.VITEST_JSON_REPORT;

export default defineConfig({
  test: {
    // .ci/run asks for a JSON report to print a plain "N passed, N failed" line.
    reporters: jsonReport ? ['default', ['json', { outputFile: jsonReport }]] : ['default'],
    // Tests that spawn the compiled service or command line run this tree's build.
    globalSetup: ['test/support/compiledBuild.ts'],
    projects: [
      {
        test: {
          name: 'unit',
          include: ['src/**/*.unit.test.ts', 'test/**/*.unit.test.ts'],
        },
      },
      {
        test: {
          name: 'int',
          include: ['src/**/*.int.test.ts', 'test/**/*.int.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['src/**/*.e2e.test.ts', 'test/**/*.e2e.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
          // A page waited for (a QR code drawn, a dialog opened) may take more than the default
          // second on a loaded machine; a poll still ends as soon as the page is there.
          expect: { poll: { timeout: 10_000 } },
        },
      },
    ],
  },
});
