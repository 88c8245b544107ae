// Bundles the desktop VS Code test suite (test/electron/suite.ts) into one CommonJS file that the
// extension host can load as --extensionTestsPath. Only `vscode` stays outside: the host provides it.
// Run after `npm run build` (the suite drives the built extension and its CLI in dist/).
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

await build({
  absWorkingDir: fileURLToPath(new URL('../..', import.meta.url)),
  entryPoints: { 'electron-suite': 'test/electron/suite.ts' },
  outdir: 'dist-test',
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  external: ['vscode'],
  sourcemap: true,
  logLevel: 'warning',
});
