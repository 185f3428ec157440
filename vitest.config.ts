import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

export default defineConfig({
  resolve: {
    // Node loads graphql 16's CommonJS build (it has no "exports" map); Vite would pick its ESM build
    // for our sources, and two copies of GraphQLError break `instanceof` in Yoga's error masking.
    alias: [{ find: /^graphql$/, replacement: require.resolve('graphql') }],
  },
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/secret-scan-setup.ts'],
    // Fails a test file that leaves a socket, server, timer or child process behind.
    setupFiles: ['test/support/active-handles-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    reporters: ['default'],
  },
});
