// The .vsix as `npm run package` makes it: this machine's target, its Dawn binary alone, the WebGPU backend's module.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const SCRIPT = join(ROOT, 'scripts', 'package.mjs');
const HOST_TARGET = `${process.platform}-${process.arch}`;
// The folder the webgpu package's index.js loads dawn.node from on this machine.
const HOST_DAWN_FOLDER = `${process.platform}-${process.platform === 'darwin' ? 'universal' : process.arch}`;

function packageInto(outDir: string, ...args: string[]) {
  return spawnSync(process.execPath, [SCRIPT, ...args, '--out-dir', outDir], { cwd: ROOT, encoding: 'utf8', timeout: 300_000 });
}

const zipEntries = (zip: string) => spawnSync('unzip', ['-Z1', zip], { encoding: 'utf8' }).stdout.trim().split('\n');

test(
  'package: this platform only, with its own Dawn binary and the WebGPU backend',
  { skip: !existsSync(join(ROOT, 'node_modules', 'webgpu')) && 'the optional webgpu package is not installed' },
  () => {
    const outDir = mkdtempSync(join(tmpdir(), 'nas-vsix-'));
    const result = packageInto(outDir);
    assert.equal(result.status, 0, result.stderr);
    const vsix = join(outDir, `nas-studio-${HOST_TARGET}.vsix`);
    const entries = zipEntries(vsix);

    assert.ok(entries.includes(`extension/node_modules/webgpu/dist/${HOST_DAWN_FOLDER}/dawn.node`));
    const dawnFolders = new Set(entries.flatMap((entry) => /^extension\/node_modules\/webgpu\/dist\/([^/]+)\//.exec(entry)?.[1] ?? []));
    assert.deepEqual([...dawnFolders], [HOST_DAWN_FOLDER]);
    assert.ok(entries.includes('extension/node_modules/@tensorflow/tfjs-backend-webgpu/dist/tf-backend-webgpu.node.js'));
    assert.ok(entries.includes('extension/dist/cli.js'));
    // The embedded data sets, which findShippedFile looks for above dist/.
    assert.ok(entries.includes('extension/data/digits/digits.csv.gz'));
    assert.ok(entries.includes('extension/data/tinyshakespeare/input.txt.gz'));

    const manifest = spawnSync('unzip', ['-p', vsix, 'extension.vsixmanifest'], { encoding: 'utf8' }).stdout;
    assert.match(manifest, new RegExp(`TargetPlatform="${HOST_TARGET}"`));
  },
);

test('package: another platform is refused, since better-sqlite3 is built for this one', () => {
  const other = HOST_TARGET === 'linux-arm64' ? 'linux-x64' : 'linux-arm64';
  const outDir = mkdtempSync(join(tmpdir(), 'nas-vsix-'));
  const result = packageInto(outDir, other);
  assert.equal(result.status, 1);
  assert.match(result.stderr, /better-sqlite3/);
  assert.equal(existsSync(join(outDir, `nas-studio-${other}.vsix`)), false);
});
