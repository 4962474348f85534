// ESLint: typescript-eslint with type information, Prettier for formatting, and the
// project's dependency rules (../shared/design/ARCHITECTURE.md) as no-restricted-imports.
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

/** The SQL driver has one importer, src/history/postgres.ts (ARCHITECTURE.md). */
const PG_ONLY = { name: 'pg', message: "Only src/history/postgres.ts imports the SQL driver 'pg'." };

/**
 * Forbid packages by name and project folders by path pattern, with one message. Every folder's
 * list also forbids 'pg' (a later rule replaces an earlier one for the same file, not adds to it).
 */
const restrict = ({ packages = [], patterns = [] }, message) => ({
  'no-restricted-imports': [
    'error',
    {
      paths: [...packages.map((name) => ({ name, message })), PG_ONLY],
      patterns: patterns.map((group) => ({ group: [group], message })),
    },
  ],
});

export default tseslint.config(
  { ignores: ['dist/**', 'build/**', 'node_modules/**', 'coverage/**', 'bench/results/**', 'certs/out/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        project: ['./tsconfig.check.json', './tsconfig.browser.json'],
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/require-await': 'off',
      'no-restricted-syntax': [
        'error',
        { selector: 'TSEnumDeclaration', message: 'Use an `as const` object and a union instead of enum.' },
        { selector: 'TSModuleDeclaration[kind="namespace"]', message: 'No namespaces.' },
      ],
      eqeqeq: ['error', 'always'],
    },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/logging/**'],
    rules: { 'no-console': 'error' },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/history/postgres.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: [PG_ONLY] }] },
  },
  {
    files: [
      'src/store/**',
      'src/mqtt/topic.ts',
      'src/policy/**',
      'src/logging/scrub.ts',
      'src/output/**',
      'src/errors.ts',
    ],
    rules: restrict(
      {
        packages: ['mqtt', 'pino', 'express'],
        patterns: [
          '@modelcontextprotocol/*',
          '**/tools/*',
          '**/transports/*',
          '**/mqtt/client.js',
          '**/mqtt/options.js',
        ],
      },
      'Pure modules import only zod, node builtins and other pure modules (ARCHITECTURE.md).',
    ),
  },
  {
    files: ['src/pictures/**'],
    rules: restrict(
      {
        packages: ['mqtt', 'pino', 'express', 'node:sqlite'],
        patterns: [
          '@modelcontextprotocol/*',
          '**/tools/*',
          '**/transports/*',
          '**/history/*',
          '**/mqtt/*',
          '**/store/*',
        ],
      },
      'pictures/ imports its plotting and rasterising libraries and output/ only (ARCHITECTURE.md).',
    ),
  },
  {
    files: ['src/prompts/**', 'src/resources/**'],
    rules: restrict(
      {
        packages: ['mqtt', 'express', 'node:process', 'node:sqlite'],
        patterns: ['**/mqtt/client.js', '**/transports/*'],
      },
      "prompts/ and resources/ are MCP wiring: no 'mqtt', express, process or transports.",
    ),
  },
  {
    files: ['src/app-ui/**'],
    rules: restrict(
      {
        packages: ['mqtt', 'pino', 'express', '@resvg/resvg-js'],
        patterns: [
          'node:*',
          '@modelcontextprotocol/sdk/*',
          '**/tools/*',
          '**/transports/*',
          '**/history/*',
          '**/store/*',
          '**/pictures/index.js',
          '**/pictures/raster.js',
          '**/pictures/render.js',
        ],
      },
      'app-ui/ runs in the browser: the ext-apps App, the chart scene builder and output/ only.',
    ),
  },
  {
    files: ['src/mqtt/**'],
    rules: restrict(
      { patterns: ['@modelcontextprotocol/*', '**/tools/*', '**/store/*', '!**/store/message-store.js'] },
      'mqtt/ must not import the SDK, tools or the store (types of stored messages excepted).',
    ),
  },
  {
    files: ['src/tools/**'],
    rules: restrict(
      {
        packages: ['mqtt', 'express', 'node:process'],
        patterns: ['**/mqtt/client.js', '**/mqtt/options.js'],
      },
      "tools/ use the BrokerLink interface, never 'mqtt', express or process.",
    ),
  },
  {
    files: ['src/transports/**'],
    rules: restrict(
      { packages: ['mqtt'], patterns: ['**/tools/*', '!**/tools/deps.js'] },
      "transports/ are wiring only: no 'mqtt', no tool internals.",
    ),
  },
  {
    files: ['src/config/**'],
    rules: restrict(
      { packages: ['mqtt', 'pino'], patterns: ['**/logging/logger.js'] },
      "config/ must not import 'mqtt' or pino.",
    ),
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/index.ts', 'src/healthcheck.ts'],
    rules: {
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'env', message: 'Only src/index.ts reads process.env.' },
      ],
    },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite'] },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      globals: { process: 'readonly', console: 'readonly', URL: 'readonly' },
    },
  },
  prettier,
);
