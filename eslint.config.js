// Lint rules. The one that carries the architecture: src/core is pure, so it
// may not import anything that touches files, processes, sockets or time.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const IMPURE_MODULES = [
  'fs',
  'fs/promises',
  'child_process',
  'net',
  'http',
  'https',
  'http2',
  'dgram',
  'dns',
  'tls',
  'timers',
  'timers/promises',
  'worker_threads',
  'cluster',
  'process',
  'os',
  'readline',
];

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', 'src/core/manifests/generated/'] },
  js.configs.recommended,
  ...tseslint.configs.strict,
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        setInterval: 'readonly',
        setTimeout: 'readonly',
        clearInterval: 'readonly',
        clearTimeout: 'readonly',
      },
    },
  },
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  pureCore(['src/core/*.ts'], '^\\.\\./(?!\\.\\./schemas/)'),
  // Core's folders (manifests, rendering, planning, ...): '../' is still inside core, '../../' leaves it.
  pureCore(['src/core/*/**/*.ts'], '^\\.\\./\\.\\./(?!\\.\\./schemas/)'),
);

/** The rules that keep src/core pure; `escape` matches an import leaving src/core from these files. */
function pureCore(files, escape) {
  return {
    files,
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            ...IMPURE_MODULES.flatMap((m) => [
              { name: m, message: 'src/core is pure: do I/O at the edges and pass values in.' },
              { name: `node:${m}`, message: 'src/core is pure: do I/O at the edges and pass values in.' },
            ]),
            { name: 'prom-client', message: 'src/core is pure: metrics live at the edges.' },
            { name: 'chokidar', message: 'src/core is pure: watching lives at the edges.' },
          ],
          patterns: [{ regex: escape, message: 'src/core may only import from src/core and schemas/.' }],
        },
      ],
      'no-restricted-globals': [
        'error',
        ...['process', 'setTimeout', 'setInterval', 'setImmediate', 'fetch', 'Date'].map((name) => ({
          name,
          message: 'src/core is pure: time, timers, processes and network come in as values.',
        })),
      ],
    },
  };
}
