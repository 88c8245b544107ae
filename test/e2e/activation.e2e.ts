// When NAS Studio starts, in a real VS Code (code-server 4.100.3): not for a plain YAML or JSON
// file, and as soon as a search file is opened in a workspace that has none (the file lies outside it)
// (its own language, nas-yaml, activates it), with the search file's problems shown.
// Needs: bash scripts/e2e-setup.sh (once per machine) and npm run build (dist/extension.js).
// Run: node --import tsx --test --test-concurrency=1 test/e2e/activation.e2e.ts
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { assertSetup, extensionHostLog, openFile, openSession, pickQuickItem, sleep, waitFor, type Session } from './harness.ts';

const PLAIN_YAML = 'services:\n  web:\n    image: nginx\n';
const PLAIN_JSON = '{ "compilerOptions": { "strict": true } }\n';
// A search file with one mistake the validator names (an unknown operation).
const LATE_SEARCH = `name: late
dataset: { kind: digits }
space:
  kind: cell
  nodes: 3
  operations: [conv9x9]
strategy: { kind: random }
`;

let session: Session;

before(async () => {
  assertSetup();
  session = await openSession({ trusted: true, files: { 'compose.yaml': PLAIN_YAML, 'tsconfig.json': PLAIN_JSON } });
});

after(async () => {
  await session?.close();
});

const activations = () =>
  extensionHostLog(session)
    .split('\n')
    .filter((line) => /_doActivateExtension nas-studio\./.test(line));

test(
  'a plain YAML or JSON file leaves NAS Studio asleep; opening a search file wakes it and shows its problems',
  { timeout: 3 * 60_000 },
  async () => {
    const { page } = session;
    await openFile(page, 'compose.yaml');
    await openFile(page, 'tsconfig.json');
    await sleep(3000);
    assert.deepEqual(activations(), [], 'NAS Studio activated for a plain YAML or JSON file');

    // Written outside the workspace after the window opened: workspaceContains never saw it.
    const late = join(session.root, 'late.nas.yaml');
    writeFileSync(late, LATE_SEARCH);
    await page.keyboard.press('Escape');
    await page.keyboard.press('Control+p');
    const input = page.locator('.quick-input-widget input.input');
    await input.waitFor({ state: 'visible', timeout: 10_000 });
    await input.fill(late);
    await pickQuickItem(page, 'late.nas.yaml');
    await page.locator('.tabs-container .tab').filter({ hasText: 'late.nas.yaml' }).first().waitFor({ state: 'visible', timeout: 15_000 });
    const activated = await waitFor(() => activations()[0], 30_000, 'NAS Studio to activate for late.nas.yaml');
    assert.match(activated, /activationEvent: 'onLanguage:nas-yaml'/);
    await page.keyboard.press('Escape');
    await page.keyboard.press('Control+Shift+M');
    const problem = await waitFor(
      async () => (await page.locator('.markers-panel .monaco-list-row').allInnerTexts()).find((row) => /NAS Studio/.test(row)),
      30_000,
      'a NAS Studio problem for late.nas.yaml in the Problems panel',
    );
    assert.match(problem, /conv9x9/);
  },
);
