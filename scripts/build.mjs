// One esbuild bundle per entry point. Dependencies stay external: better-sqlite3 and tfjs are
// loaded from node_modules by plain Node, never bundled.
import { build } from 'esbuild';

const entries = {
  cli: 'src/cli/main.ts',
  engine: 'src/engine/child.ts',
  'trainer-process': 'src/engine/evaluators/trainer-process.ts',
};

await build({
  entryPoints: entries,
  outdir: 'dist',
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  packages: 'external',
  sourcemap: true,
  logLevel: 'warning',
});
