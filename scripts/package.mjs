// One .vsix for this machine's platform, carrying only that platform's Dawn binary (the webgpu package
// ships all five, 130 MB unpacked). Other targets are refused rather than built: better-sqlite3 is
// compiled by npm install for this machine only, so a package for another platform would carry a
// binary that cannot load there. Build each target on its own platform (a CI matrix).
//
// Usage: node scripts/package.mjs [target] [--out-dir folder]   (run `npm run build` first)
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

// vsce target → the folder of node_modules/webgpu/dist that the webgpu package loads there.
const DAWN_FOLDERS = {
  'linux-x64': 'linux-x64',
  'linux-arm64': 'linux-arm64',
  'darwin-x64': 'darwin-universal',
  'darwin-arm64': 'darwin-universal',
  'win32-x64': 'win32-x64',
  'win32-arm64': 'win32-arm64',
};

const { values, positionals } = parseArgs({ allowPositionals: true, options: { 'out-dir': { type: 'string', default: 'dist-vsix' } } });
const hostTarget = `${process.platform}-${process.arch}`;
const target = positionals[0] ?? hostTarget;

function fail(message) {
  console.error(`package: ${message}`);
  process.exit(1);
}

if (positionals.length > 1) fail('one target at most');
if (!(target in DAWN_FOLDERS)) fail(`no package for ${target}; targets: ${Object.keys(DAWN_FOLDERS).join(', ')}`);
if (target !== hostTarget)
  fail(
    `this machine is ${hostTarget}, so its better-sqlite3 binary is too: a ${target} package would not load there. ` +
      `Run npm install and npm run package on a ${target} machine.`,
  );

const otherDawnFolders = new Set(Object.values(DAWN_FOLDERS).filter((folder) => folder !== DAWN_FOLDERS[target]));
const otherDawnPatterns = [...otherDawnFolders].map((folder) => `node_modules/webgpu/dist/${folder}/**`);
const scratch = mkdtempSync(join(tmpdir(), 'nas-package-'));
const ignoreFile = join(scratch, '.vscodeignore');
writeFileSync(
  ignoreFile,
  [readFileSync('.vscodeignore', 'utf8'), '# Other platforms’ Dawn binaries.', ...otherDawnPatterns, ''].join('\n'),
);

mkdirSync(values['out-dir'], { recursive: true });
const out = join(values['out-dir'], `nas-studio-${target}.vsix`);
// vsce's own script run by this Node: no npx, so no shell on Windows.
const vsce = createRequire(import.meta.url).resolve('@vscode/vsce/vsce');
const packaging = spawnSync(
  process.execPath,
  [vsce, 'package', '--target', target, '--ignoreFile', ignoreFile, '--allow-missing-repository', '--skip-license', '--out', out],
  { stdio: 'inherit' },
);
rmSync(scratch, { recursive: true, force: true });
if (packaging.status !== 0) fail(`vsce failed for ${target}`);
