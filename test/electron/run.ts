// Runs the extension's tests in a desktop VS Code through @vscode/test-electron:
//   npm run build && node test/electron/build.mjs && node --import tsx test/electron/run.ts
// VS Code: VSCODE_EXECUTABLE_PATH when set (a VS Code binary already on this machine, e.g. the
// one the `code` Debian package installs, or the Electron binary inside Visual Studio Code.app); otherwise
// test-electron downloads the latest `stable` build into .vscode-test/ under the current folder
// (needs internet the first time) and reuses that cached copy on later runs.
// The suite itself (test/electron/suite.ts, bundled to dist-test/electron-suite.js) runs inside the
// extension host; this file only prepares a workspace and launches VS Code on it.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runTests } from '@vscode/test-electron';
import { tinySearchText } from '../support/tiny.ts';

const REPO = resolve(__dirname, '..', '..');
const SUITE = join(REPO, 'dist-test', 'electron-suite.js');

const TINY_SEARCH = tinySearchText({ trials: 12 });

function assertBuilt(): void {
  const missing: string[] = [];
  for (const file of ['extension.js', 'engine.js', 'cli.js']) {
    if (!existsSync(join(REPO, 'dist', file))) missing.push(`dist/${file} is missing: run \`npm run build\` first`);
  }
  if (!existsSync(SUITE)) missing.push('dist-test/electron-suite.js is missing: run `node test/electron/build.mjs` first');
  if (missing.length) throw new Error(`cannot run the desktop VS Code tests:\n  ${missing.join('\n  ')}`);
}

/** A fresh folder holding the workspace (tiny search file and settings) and VS Code's own profile. */
function prepare(): { root: string; workspace: string; userData: string; extensions: string } {
  const root = mkdtempSync(join(tmpdir(), 'nas-electron-'));
  const workspace = join(root, 'workspace');
  mkdirSync(join(workspace, '.vscode'), { recursive: true });
  writeFileSync(join(workspace, 'tiny.nas.yaml'), TINY_SEARCH);
  const settings = {
    // Relative to the workspace folder; the suite reads the same file through the CLI.
    'nasStudio.databasePath': 'runs.db',
    // The engine runs with the Node that runs this script: the one `npm ci` built better-sqlite3 for.
    'nasStudio.nodePath': process.execPath,
  };
  writeFileSync(join(workspace, '.vscode', 'settings.json'), `${JSON.stringify(settings, null, 2)}\n`);
  const userData = join(root, 'user-data');
  const extensions = join(root, 'extensions');
  mkdirSync(userData);
  mkdirSync(extensions);
  return { root, workspace, userData, extensions };
}

async function main(): Promise<number> {
  assertBuilt();
  const { root, workspace, userData, extensions } = prepare();
  const vscodeExecutablePath = process.env.VSCODE_EXECUTABLE_PATH || undefined;
  console.log(
    `NAS Studio desktop tests: workspace ${workspace}, ` +
      `VS Code ${vscodeExecutablePath ?? 'stable (downloaded by @vscode/test-electron, cached in .vscode-test/)'}`,
  );
  try {
    await runTests({
      // With no executable path, test-electron downloads (or reuses its cached) latest stable build.
      ...(vscodeExecutablePath ? { vscodeExecutablePath } : { version: 'stable' }),
      extensionDevelopmentPath: REPO,
      extensionTestsPath: SUITE,
      // The suite runs inside the extension host (Electron): it calls the CLI with this Node.
      extensionTestsEnv: { NAS_TEST_NODE: process.execPath },
      launchArgs: [
        workspace,
        '--disable-extensions',
        '--skip-welcome',
        // test-electron adds --no-sandbox, --disable-updates, --skip-release-notes and
        // --disable-workspace-trust (the extension starts no engine in Restricted Mode).
        // A profile of its own, so nothing from this machine's VS Code (or an earlier run) leaks in.
        `--user-data-dir=${userData}`,
        `--extensions-dir=${extensions}`,
      ],
    });
  } catch (error) {
    console.error(`NAS Studio desktop tests failed: ${error instanceof Error ? error.message : String(error)}`);
    console.error(`workspace and VS Code profile kept in ${root}`);
    return 1;
  }
  rmSync(root, { recursive: true, force: true });
  console.log('NAS Studio desktop tests passed');
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exitCode = 1;
  },
);
