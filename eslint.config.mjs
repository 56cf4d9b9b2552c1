import js from '@eslint/js';
import importX from 'eslint-plugin-import-x';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

/**
 * DESIGN.md section 2: modules import downwards only. Each zone names the files (target) that must
 * not import from the folders listed (from); `http` (controllers' shell, hooks, Swagger) sits on
 * top and nothing below it imports it. The database's entity registry is the one file that lists
 * every module's entities.
 */
const DOMAIN = [
  'audit',
  'auth',
  'credentials',
  'keys',
  'health',
  'metrics',
  'rotation',
  'incidents',
  'events',
  'webhooks',
  'vault-compat',
];
const src = (...dirs) => dirs.map((d) => `./src/${d}`);
const moduleBoundaries = [
  {
    target: './src/common',
    from: src('config', 'database', 'crypto', 'logging', 'http', 'cli', ...DOMAIN),
    message: 'common depends on no module',
  },
  {
    target: './src/config',
    from: src('database', 'crypto', 'logging', 'http', 'cli', ...DOMAIN),
    message: 'config depends on common only',
  },
  {
    target: ['./src/database/*/**/*.ts', './src/database/!(entities).ts'],
    from: src('crypto', 'http', 'cli', ...DOMAIN),
    message: 'database knows no domain module',
  },
  {
    target: './src/outbound',
    from: src('database', 'crypto', 'logging', 'http', 'cli', ...DOMAIN),
    message: 'outbound (the SSRF guard and its HTTP client) depends on config and common only',
  },
  {
    target: './src/crypto',
    from: src('http', 'cli', ...DOMAIN),
    message: 'crypto knows nothing of HTTP or domain modules',
  },
  {
    target: './src/audit',
    from: src(
      'http',
      'cli',
      'auth',
      'credentials',
      'keys',
      'health',
      'rotation',
      'incidents',
      'events',
      'webhooks',
      'vault-compat',
    ),
    message: 'audit depends on no domain module (decorators live in common/)',
  },
  {
    target: './src/auth',
    from: src(
      'http',
      'cli',
      'credentials',
      'keys',
      'health',
      'rotation',
      'incidents',
      'vault-compat',
    ),
    message: 'auth sits below the domain modules',
  },
  {
    target: './src/credentials',
    from: [
      ...src('http', 'cli', 'keys', 'health', 'rotation', 'incidents', 'vault-compat'),
      './src/auth/guards',
      './src/auth/sessions',
    ],
    message: 'credentials point down only: to crypto, audit and the grants of auth',
  },
  {
    target: src(...DOMAIN.filter((d) => d !== 'webhooks'), 'outbound'),
    from: src('webhooks'),
    message: 'webhooks listens to events; nothing imports it (events and rotation never do)',
  },
  {
    target: src('rotation', 'events', 'keys', 'health', 'metrics'),
    from: src('incidents'),
    message: 'incidents sits above rotation; nothing but the app module imports it',
  },
  {
    target: [
      ...src(...DOMAIN.filter((d) => d !== 'vault-compat')),
      ...src('common', 'config', 'database', 'crypto', 'outbound', 'logging', 'http', 'cli'),
    ],
    from: src('vault-compat'),
    message: 'vault-compat is an HTTP adapter; nothing but the app module imports it',
  },
  {
    target: src('keys', 'health', 'metrics', 'logging'),
    from: src('http', 'cli'),
    message: 'nothing imports http or the CLI',
  },
];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'data/**', '**/*.js', '**/*.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      'no-console': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'off',
    },
  },
  {
    files: ['src/**/*.ts'],
    // Tests wire real modules together (a controller spec needs the real guard).
    ignores: ['**/*.spec.ts'],
    plugins: { 'import-x': importX },
    settings: { 'import-x/resolver': { node: { extensions: ['.ts', '.js'] } } },
    rules: { 'import-x/no-restricted-paths': ['error', { zones: moduleBoundaries }] },
  },
  {
    files: ['**/*.spec.ts', '**/*.e2e-spec.ts', 'test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/unbound-method': 'off',
    },
  },
  prettier,
);
