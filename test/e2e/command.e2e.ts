// A search whose evaluation is the user's own program, in a real VS Code (code-server 4.100.3): VS Code
// asks before it runs the command, the trials fill the dashboard, and the trial view shows the program's output.
// Needs: bash scripts/e2e-setup.sh (once per machine), npm run build (dist/extension.js, dist/webview/) and python3.
// Run: node --import tsx --test --test-concurrency=1 test/e2e/command.e2e.ts
// Screenshots land in test/e2e/screenshots/ as <nn>-command-*.png.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import {
  assertSetup,
  messages,
  openFile,
  openSession,
  readDatabase,
  REPO,
  runCommand,
  SCREENSHOTS,
  screenshotter,
  showViewContainer,
  treeRows,
  viewPane,
  waitFor,
  waitForPanel,
  type Session,
} from './harness.ts';

const BUDGET = 2;
const TRIAL_SCRIPT = join(REPO, 'test', 'fixtures', 'command-trials', 'normal.py');
const hasPython = spawnSync('python3', ['-c', 'import json']).status === 0;

const SEARCH = `name: own-script
dataset: { kind: digits, validation_split: 0.2, test_split: 0.1, seed: 1, max_train_examples: 96 }
space: { kind: macro, layers: 2, filter_heights: [1, 3], filter_widths: [1, 3], filters: [4, 8], skip_connections: true }
strategy: { kind: random }
evaluation: { kind: command, command: [python3, ${JSON.stringify(TRIAL_SCRIPT)}], epochs: 2 }
budget: { trials: ${BUDGET} }
runtime: { seed: 7 }
`;

const snap = screenshotter('command');
let session: Session | undefined;

before(() => {
  if (!hasPython) return;
  assertSetup();
  // This file's screenshots from an earlier run go; the other e2e files' stay.
  if (existsSync(SCREENSHOTS)) for (const name of readdirSync(SCREENSHOTS)) if (name.includes('-command-')) rmSync(join(SCREENSHOTS, name));
});

after(async () => {
  await session?.close();
});

function doneTrials(dbPath: string): number {
  if (!existsSync(dbPath)) return 0;
  return readDatabase(dbPath, (db) => (db.prepare("SELECT COUNT(*) AS n FROM trials WHERE status = 'done'").get() as { n: number }).n);
}

test(
  "a search that runs the user's program: approved in a modal, its trials on the dashboard, the program's output in the trial view",
  { timeout: 4 * 60_000 },
  async (t) => {
    if (!hasPython) {
      console.log('skipped: no python3 on PATH to run the trial script');
      t.skip('no python3 on PATH');
      return;
    }
    session = await openSession({ trusted: true, files: { 'own-script.nas.yaml': SEARCH } });
    const { page } = session;
    const dbPath = join(session.workspace, '.nas-studio', 'runs.db');

    await openFile(page, 'own-script.nas.yaml');
    await runCommand(page, 'NAS: Start Architecture Search');
    const asked = await waitFor(
      async () => (await messages(page)).find((m) => m.includes('runs a program of yours')),
      30_000,
      async () => `the modal asking to run the command (shown: ${JSON.stringify(await messages(page))})`,
    );
    assert.ok(asked.includes(TRIAL_SCRIPT), `the modal names the command (${asked})`);
    await snap(page, 'approval');
    await page.locator('.monaco-dialog-box .monaco-button').filter({ hasText: /^Run$/ }).first().click();
    await page.locator('.monaco-dialog-box').waitFor({ state: 'detached', timeout: 15_000 });

    await showViewContainer(page, 'NAS Studio');
    await waitFor(
      async () => (await treeRows(page, 'Runs')).find((row) => row.level === 1 && row.description.startsWith(`done · ${BUDGET}/${BUDGET}`)),
      120_000,
      async () =>
        `the run done with ${BUDGET}/${BUDGET} trials in the Runs tree (rows: ${JSON.stringify(await treeRows(page, 'Runs'))}; ` +
        `messages ${JSON.stringify(await messages(page))})`,
    );
    assert.equal(doneTrials(dbPath), BUDGET, 'every trial finished');

    await runCommand(page, 'NAS: Open Run Dashboard');
    const dashboard = await waitForPanel(page, 'dashboard');
    const rewardPoints = await dashboard.locator('body').evaluate(() => {
      type ChartLike = { data: { datasets: { label?: string; data: unknown[] }[] } };
      const charts = (globalThis as unknown as { __nasCharts?: { reward?: ChartLike } }).__nasCharts;
      return charts?.reward?.data.datasets.find((d) => /^reward$/i.test(d.label ?? ''))?.data.length;
    });
    assert.equal(rewardPoints, BUDGET, 'the reward chart has a point per trial');
    assert.match(await dashboard.locator('body').innerText(), /own-script/);
    await snap(page, 'dashboard');

    const run = viewPane(page, 'Runs').locator('.monaco-list-row').first();
    if ((await run.getAttribute('aria-expanded')) !== 'true') await run.locator('.monaco-tl-twistie').click();
    await viewPane(page, 'Runs')
      .locator('.monaco-list-row')
      .filter({ has: page.locator('.label-name').filter({ hasText: /^trial 0$/ }) })
      .first()
      .click();
    const trial = await waitForPanel(page, 'trial');
    const log = trial.locator('#trial-log');
    await log.waitFor({ state: 'visible', timeout: 10_000 });
    assert.equal((await trial.locator('.trial-log h2').innerText()).trim(), 'Log');
    const text = (await log.textContent()) ?? '';
    assert.match(text, /^epoch 2 done$/m, `the log shows the script's output (${JSON.stringify(text)})`);
    assert.equal(await trial.locator('#trial-log-cut').count(), 0, 'a short log is shown whole');
    await log.evaluate((element) => (element as { scrollIntoView(): void }).scrollIntoView());
    await snap(page, 'trial-view-log');
  },
);
