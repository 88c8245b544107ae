import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.nas-studio/**', 'test/fixtures/**', 'scratch/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        URL: 'readonly',
        performance: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      // Prettier wraps code at 140 columns but leaves long strings and comments alone: this catches those.
      'max-len': ['error', { code: 140, ignoreUrls: false }],
    },
  },
  {
    files: ['src/engine/**', 'src/space/**', 'src/protocol/**', 'src/cli/**'],
    rules: { 'no-restricted-imports': ['error', { paths: [{ name: 'vscode', message: 'The engine runs headless: no vscode here.' }] }] },
  },
  {
    // Trainers and supernets may run on a GPU backend, where Node has no synchronous read. The strategies
    // (the controller) run on the cpu backend, and the kernels are the cpu and wasm backends' own.
    files: ['src/engine/**'],
    ignores: ['src/engine/strategies/**', 'src/engine/kernels/**', 'src/engine/analysis/**'],
    rules: {
      'no-restricted-properties': [
        'error',
        ...['dataSync', 'arraySync', 'bufferSync'].map((property) => ({
          property,
          message: 'A GPU tensor cannot be read synchronously in Node: await data() or array() (src/engine/tensor-values.ts).',
        })),
      ],
    },
  },
);
