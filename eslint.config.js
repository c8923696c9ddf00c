// Flat ESLint config. The dependency rules of docs/architecture.md are enforced here:
// Nx project tags + @nx/enforce-module-boundaries, and koffi banned outside hal-ascend and shm.
// The e2e project (cross-package suites) may import every package; no tag allows importing e2e.
const nx = require('@nx/eslint-plugin');
const tseslint = require('typescript-eslint');

module.exports = [
  { ignores: ['**/dist/**', '**/node_modules/**', '**/coverage/**', '**/.nx/**', 'examples/**'] },
  {
    files: ['packages/*/src/**/*.ts', 'packages/*/test/**/*.ts', 'e2e/test/**/*.ts'],
    languageOptions: { parser: tseslint.parser, ecmaVersion: 2022, sourceType: 'module' },
    plugins: { '@nx': nx },
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: true,
          allow: [],
          banTransitiveDependencies: false,
          depConstraints: [
            { sourceTag: 'scope:abi', onlyDependOnLibsWithTags: [], bannedExternalImports: ['koffi'] },
            // Shared memory through koffi and nothing else: no region concepts, no backend.
            { sourceTag: 'scope:shm', onlyDependOnLibsWithTags: ['scope:abi'] },
            {
              sourceTag: 'scope:core',
              onlyDependOnLibsWithTags: ['scope:abi', 'scope:shm'],
              bannedExternalImports: ['koffi'],
            },
            {
              sourceTag: 'scope:backend',
              onlyDependOnLibsWithTags: ['scope:abi', 'scope:shm'],
            },
            {
              sourceTag: 'scope:backend-pure',
              onlyDependOnLibsWithTags: ['scope:abi', 'scope:shm'],
              bannedExternalImports: ['koffi'],
            },
            {
              sourceTag: 'scope:cli',
              onlyDependOnLibsWithTags: ['scope:abi', 'scope:shm', 'scope:core', 'scope:backend'],
              bannedExternalImports: ['koffi'],
            },
            { sourceTag: 'scope:e2e', onlyDependOnLibsWithTags: ['*'], bannedExternalImports: ['koffi'] },
          ],
        },
      ],
    },
  },
  // Works even without an Nx project graph: koffi stays inside hal-ascend and shm.
  {
    files: ['packages/*/src/**/*.ts', 'packages/*/test/**/*.ts', 'e2e/test/**/*.ts'],
    ignores: ['packages/hal-ascend/**', 'packages/shm/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: [{ name: 'koffi', message: 'Only @simpler/hal-ascend and @simpler/shm may import koffi; use @simpler/shm for native memory.' }] },
      ],
    },
  },
];
