// One esbuild bundle per entry point. Engine dependencies stay external: better-sqlite3 and tfjs are
// loaded from node_modules by plain Node, never bundled. The extension host bundle takes in its few
// pure-JavaScript dependencies and leaves only `vscode` outside.
import { copyFileSync, existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
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

// The wasm backend's binaries go beside the trainer bundle: trainers load them from dist/, never fetch them.
const wasmFolder = join(dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
for (const binary of ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm'])
  copyFileSync(join(wasmFolder, binary), join('dist', binary));

// Kind modules (src/space/kinds) reach engine code, tfjs included, only through `import()` in their
// factories, which the extension host and the webviews never call: those bundles leave every dynamic
// import out, so engine code stays out of them.
const dynamicImportsOutside = {
  name: 'dynamic-imports-outside',
  setup(build) {
    build.onResolve({ filter: /.*/ }, (args) => (args.kind === 'dynamic-import' ? { path: args.path, external: true } : undefined));
  },
};

// Panels by folder convention: each module in src/extension/panels/ is a panel kind (exporting one
// definePanel value), and webview/<kind>.ts is its page. The host bundle gets them all through the
// virtual module `nas-studio:panel-kinds`, so no list of panels is written by hand.
const PANEL_KINDS = 'src/extension/panels';
const panelKinds = readdirSync(PANEL_KINDS)
  .filter((file) => file.endsWith('.ts'))
  .map((file) => file.slice(0, -'.ts'.length))
  .sort();
for (const kind of panelKinds)
  if (!existsSync(`webview/${kind}.ts`)) throw new Error(`the panel ${PANEL_KINDS}/${kind}.ts has no page: webview/${kind}.ts is missing`);
const panelKindsModule = {
  name: 'panel-kinds',
  setup(build) {
    build.onResolve({ filter: /^nas-studio:panel-kinds$/ }, (args) => ({ path: args.path, namespace: 'panel-kinds' }));
    build.onLoad({ filter: /.*/, namespace: 'panel-kinds' }, () => ({
      resolveDir: process.cwd(),
      loader: 'ts',
      contents: [
        ...panelKinds.map((kind, i) => `import * as kind${i} from './${PANEL_KINDS}/${kind}.ts';`),
        `const modules = { ${panelKinds.map((kind, i) => `${JSON.stringify(kind)}: kind${i}`).join(', ')} };`,
        // Each module's one definePanel value: its one export with a `view` and an `open`.
        'export const panelKinds = Object.entries(modules).map(([name, module]) => {',
        "  const found = Object.values(module).filter((v) => v && typeof v === 'object' && 'view' in v && 'open' in v);",
        '  if (found.length !== 1) throw new Error(`src/extension/panels/${name}.ts must export one definePanel value`);',
        '  return found[0];',
        '});',
      ].join('\n'),
    }));
  },
};

const host = await build({
  entryPoints: { extension: 'src/extension/extension.ts', 'estimate-worker': 'src/extension/estimate-worker.ts' },
  outdir: 'dist',
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  external: ['vscode'],
  plugins: [dynamicImportsOutside, panelKindsModule],
  sourcemap: true,
  metafile: true,
  logLevel: 'warning',
});
// The webview panels: browser code, each page one script (chart.js and @vscode-elements inside) and one stylesheet.
await build({
  entryPoints: { ...Object.fromEntries(panelKinds.map((kind) => [kind, `webview/${kind}.ts`])), panels: 'webview/panels.css' },
  outdir: 'dist/webview',
  bundle: true,
  platform: 'browser',
  format: 'iife',
  target: 'es2022',
  plugins: [dynamicImportsOutside],
  minify: true,
  sourcemap: true,
  logLevel: 'warning',
});

// The host must never load a native module or tfjs (DESIGN.md): fail the build if one slipped in.
const forbidden = Object.keys(host.metafile.inputs).filter((input) => /node_modules\/(better-sqlite3|@tensorflow)\//.test(input));
if (forbidden.length) throw new Error(`the extension host bundle pulls in ${forbidden.join(', ')}`);
