// Retrain…, Export Model… and Delete Run… in a real VS Code (code-server 4.100.3). (a) A tiny Pareto
// evolution search on digits (minimising FLOPs) finishes; Export Model… as TensorFlow.js on a trial that kept no
// weights offers Retrain… instead; Retrain… on a trial in the Runs tree asks for the epochs (the final recipe's,
// prefilled) and retrains it live: the open dashboard takes the retrained trial with its test accuracy, the tree
// labels it, and the Pareto chart is against FLOPs with its front marked; Export Model… as TensorFlow.js writes
// model.json into the folder typed into VS Code's own save dialog; the trial view says what the trial is.
// (b) A tiny ENAS search's automatic retraining shows as retrained, Retrain… on it retrains the trial it
// picked, the progress notification's Cancel stops a retraining, and Delete Run… (after its modal
// confirmation) deletes the first run and closes its open dashboard.
// Needs: bash scripts/e2e-setup.sh (once per machine) and npm run build (dist/extension.js, dist/webview/).
// Run: node --import tsx --test --test-concurrency=1 test/e2e/retrain.e2e.ts
// Screenshots land in test/e2e/screenshots/ as <nn>-retrain-*.png.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import {
  assertSetup,
  messages,
  openSession,
  readDatabase,
  runCommand,
  runsTreeContextMenu as contextMenu,
  runsTreeRow as row,
  searchFromPalette,
  SCREENSHOTS,
  screenshotter,
  treeRows,
  waitFor,
  waitForMessage,
  waitForPanel,
  type Page,
  type Session,
} from './harness.ts';

/** Each search and retraining runs on the CPU in an engine process; two busy cores make well under a minute of each. */
const TRAINING_TIMEOUT = 4 * 60_000;

const MACRO_TRIALS = 4;
const MACRO = `name: retrain-macro
dataset: { kind: digits, validation_split: 0.2, test_split: 0.2, seed: 1, max_train_examples: 128 }
space: { kind: macro, layers: 2, filter_heights: [1, 3], filter_widths: [1, 3], filters: [4, 8], skip_connections: true }
strategy: { kind: evolution, pareto: { minimise: [flops] } }
evaluation: { epochs: 1, batch_size: 32, learning_rate: 0.003 }
budget: { trials: ${MACRO_TRIALS} }
runtime: { backend: cpu, seed: 3 }
`;

const ENAS_TRIALS = 2 + 1 + 1;
const ENAS =
  `name: retrain-enas
dataset: { kind: digits, validation_split: 0.2, test_split: 0.2, seed: 1, max_train_examples: 128 }
space:
  kind: cell
  nodes: 2
  operations: [conv3x3, max_pool, identity]
  cells_per_stage: 1
  stages: 2
  filters: 4
strategy: { kind: enas, epochs: 1, batch_size: 32, learning_rate: 0.003, children_per_epoch: 2, final_samples: 1, ` +
  `controller: { hidden: 16, batch_size: 2 } }
evaluation: { epochs: 1, batch_size: 32, optimizer: adam, learning_rate: 0.003 }
runtime: { backend: cpu, seed: 1 }
`;

let session: Session | undefined;
const current = () => {
  assert.ok(session, 'the session did not start');
  return session;
};
const dbPath = () => join(current().workspace, '.nas-studio', 'runs.db');
const snap = screenshotter('retrain');

interface DbTrial {
  idx: number;
  status: string;
  reward: number | null;
  test_accuracy: number | null;
  retrained_from: number | null;
  weights_path: string | null;
}

function dbTrials(runId: number): DbTrial[] {
  if (!existsSync(dbPath())) return [];
  return readDatabase(
    dbPath(),
    (db) =>
      db
        .prepare('SELECT idx, status, reward, test_accuracy, retrained_from, weights_path FROM trials WHERE run_id = ? ORDER BY idx')
        .all(runId) as DbTrial[],
  );
}

function dbRunStatus(runId: number): string | undefined {
  if (!existsSync(dbPath())) return undefined;
  return readDatabase(
    dbPath(),
    (db) => (db.prepare('SELECT status FROM runs WHERE id = ?').get(runId) as { status: string } | undefined)?.status,
  );
}

before(async () => {
  assertSetup();
  if (existsSync(SCREENSHOTS)) for (const name of readdirSync(SCREENSHOTS)) if (name.includes('-retrain-')) rmSync(join(SCREENSHOTS, name));
  session = await openSession({
    trusted: true,
    files: { 'macro.nas.yaml': MACRO, 'enas.nas.yaml': ENAS },
    // VS Code's own file dialogs (a quick input that takes a typed path) rather than the system's.
    userSettings: { 'files.simpleDialog.enable': true },
  });
});

after(async () => {
  await session?.close();
});

async function expand(page: Page, label: string, lastTrial: number): Promise<void> {
  const run = row(page, label);
  if ((await run.getAttribute('aria-expanded')) !== 'true') await run.locator('.monaco-tl-twistie').click();
  await waitFor(
    async () => (await treeRows(page, 'Runs')).some((r) => r.level === 2 && r.label.startsWith(`trial ${lastTrial}`)),
    30_000,
    async () => `trial ${lastTrial} under ${label} (rows: ${JSON.stringify(await treeRows(page, 'Runs'))})`,
  );
}

async function collapse(page: Page, label: string): Promise<void> {
  const run = row(page, label);
  if ((await run.getAttribute('aria-expanded')) === 'true') await run.locator('.monaco-tl-twistie').click();
}

/** Widens the side bar so that a retrained trial's label and test accuracy show whole in the screenshots. */
async function widenSideBar(page: Page): Promise<void> {
  await runCommand(page, 'NAS Studio: Focus on Runs View');
  for (let i = 0; i < 4; i++) await runCommand(page, 'Increase Current View Size');
}

/** Clears the notifications, which would cover what a screenshot shows. */
async function clearNotifications(page: Page): Promise<void> {
  await runCommand(page, 'Notifications: Clear All Notifications');
}

const quickInput = (page: Page) => page.locator('.quick-input-widget input.input');
const quickInputValue = (page: Page) => quickInput(page).evaluate((input) => (input as { value: string }).value);

/** Opens a run's dashboard from its row's inline action (or reveals it, when open already). */
async function openDashboardFromTree(page: Page, runLabel: string) {
  const runRow = row(page, runLabel);
  await runRow.hover();
  const action = runRow.locator('.actions .action-label[aria-label^="Open Run Dashboard"]');
  await action.waitFor({ state: 'visible', timeout: 10_000 });
  await action.click();
  return waitForPanel(page, 'dashboard');
}

/**
 * Retrain… from the Runs tree up to the retraining's progress notification (live like a search, with a cancel
 * button): checks the prefilled epochs and types `epochs`; returns when Enter was pressed.
 */
async function startRetraining(page: Page, label: string | RegExp, prefilled: string, epochs: string): Promise<number> {
  await contextMenu(page, label, 'Retrain…');
  const input = quickInput(page);
  await input.waitFor({ state: 'visible', timeout: 15_000 });
  assert.equal(await quickInputValue(page), prefilled, "the input box proposes the final recipe's epochs");
  await input.fill(epochs);
  const t0 = Date.now();
  await page.keyboard.press('Enter');
  await waitForMessage(page, /retraining trial \d+/, 60_000);
  return t0;
}

/** Retrain… from the Runs tree: checks the prefilled epochs, types `epochs`, and waits for the retrained trial in the database. */
async function retrainFromTree(page: Page, runId: number, label: string | RegExp, prefilled: string, epochs: string): Promise<DbTrial> {
  const before = dbTrials(runId).length;
  const t0 = await startRetraining(page, label, prefilled, epochs);
  const retrained = await waitFor(
    () => {
      const trials = dbTrials(runId);
      const last = trials.at(-1);
      if (trials.length > before && last && last.status !== 'running') {
        if (last.status !== 'done') throw new Error(`the retraining ended ${last.status}`);
        return last;
      }
      return undefined;
    },
    TRAINING_TIMEOUT,
    async () => `the retrained trial of run ${runId} (messages ${JSON.stringify(await messages(page))})`,
    1000,
  );
  console.log(`Retrain… of run ${runId}: Enter → trial ${retrained.idx} done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return retrained;
}

async function retrainedRow(page: Page, trial: DbTrial): Promise<{ label: string; description: string }> {
  return waitFor(
    async () =>
      (await treeRows(page, 'Runs')).find(
        (r) => r.label === `trial ${trial.idx} · retrained from #${trial.retrained_from}` && r.description.startsWith('test '),
      ),
    30_000,
    async () => `the retrained trial ${trial.idx} in the Runs tree (rows: ${JSON.stringify(await treeRows(page, 'Runs'))})`,
  );
}

test(
  'a Pareto macro search: Retrain… on a trial, the retrained trial in the tree and the dashboard, the FLOPs front, Export Model… as tfjs',
  { timeout: 2 * TRAINING_TIMEOUT + 4 * 60_000 },
  async () => {
    const { page, workspace } = current();
    await searchFromPalette(page, { file: 'macro.nas.yaml', db: dbPath, runId: 1, label: '#1 retrain-macro', timeout: TRAINING_TIMEOUT });
    await expand(page, '#1 retrain-macro', MACRO_TRIALS - 1);

    // The run's dashboard is open while the retraining runs: it takes the retrained trial live.
    const frame = await openDashboardFromTree(page, '#1 retrain-macro');
    assert.equal(await frame.locator('#trial-retrained-column').isVisible(), false, 'no "retrained from" column before a retraining');

    // A model format on a trial that kept no weights: the pick says so, and picked, Retrain… is offered instead of a save dialog.
    await contextMenu(page, 'trial 0', 'Export Model…');
    const tfjsChoice = page.locator('.quick-input-widget .quick-input-list .monaco-list-row').filter({ hasText: 'TensorFlow.js' }).first();
    await tfjsChoice.waitFor({ state: 'visible', timeout: 15_000 });
    assert.match((await tfjsChoice.textContent()) ?? '', /this trial kept none \(Retrain… keeps them\)/);
    await tfjsChoice.click();
    const instead = await waitForMessage(page, /trial 0 of run 1 kept no weights, and a tfjs export needs them; retrain it/);
    assert.equal(
      await page
        .locator('.notifications-toasts .notification-toast .monaco-button')
        .filter({ hasText: /^Retrain…$/ })
        .count(),
      1,
      `the message offers Retrain… (${instead})`,
    );
    assert.ok(!existsSync(join(workspace, 'run1-trial0-tfjs')), 'no folder is made for an export that cannot be');
    await clearNotifications(page);

    // The final recipe trains twice the search's epochs: 2 proposed; 1 is enough here.
    const retrained = await retrainFromTree(page, 1, 'trial 1', '2', '1');
    assert.equal(retrained.retrained_from, 1);
    assert.equal(retrained.reward, null, 'a retrained trial has no reward');
    assert.ok(retrained.test_accuracy !== null && retrained.test_accuracy >= 0, 'its test accuracy is recorded');
    assert.ok(retrained.weights_path !== null, 'its weights are kept');
    const done = await waitForMessage(page, new RegExp(`trial ${retrained.idx} retrains trial 1: test accuracy \\d\\.\\d{4}`));
    console.log(`message: ${done}`);
    const treeRow = await retrainedRow(page, retrained);
    assert.equal(treeRow.description, `test ${retrained.test_accuracy!.toFixed(3)}`);
    await widenSideBar(page);
    await clearNotifications(page);
    await snap(page, 'runs-tree');

    // The dashboard got the retrained trial live: its own columns; the Pareto chart against FLOPs with its front.
    const retrainedCells = await waitFor(
      async () => {
        const cells = await frame.locator(`#trial-table tr[data-index="${retrained.idx}"] td`).allInnerTexts();
        return cells.length > 0 ? cells : undefined;
      },
      10_000,
      'the retrained trial in the open dashboard',
    );
    assert.equal(await frame.locator('#trial-retrained-column').isVisible(), true, 'a "retrained from" column');
    assert.equal(retrainedCells[2], '#1', `the retrained trial's row names its source (${JSON.stringify(retrainedCells)})`);
    assert.equal(retrainedCells[5], retrained.test_accuracy!.toFixed(4), 'and its test accuracy');
    assert.match(
      await frame.locator('body').innerText(),
      new RegExp(`${MACRO_TRIALS} / ${MACRO_TRIALS} trials`),
      'the progress counts search trials',
    );
    await frame.locator('#trial-table').evaluate((table) => (table as { scrollIntoView(): void }).scrollIntoView());
    await snap(page, 'dashboard');

    const pareto = await frame.locator('body').evaluate(() => {
      type ChartLike = {
        data: { datasets: { label?: string; data: { x: number; y: number }[] }[] };
        options: { scales?: { x?: { title?: { text?: string } } } };
      };
      const chart = (globalThis as unknown as { __nasCharts: { pareto: ChartLike } }).__nasCharts.pareto;
      return {
        axis: chart.options.scales?.x?.title?.text,
        labels: chart.data.datasets.map((d) => d.label),
        points: chart.data.datasets.map((d) => d.data.length),
      };
    });
    console.log(`Pareto chart: ${JSON.stringify(pareto)}`);
    assert.equal(pareto.axis, 'FLOPs', 'the chart is against the cost the search minimised');
    assert.equal(pareto.points[0], MACRO_TRIALS, 'every search trial, the retrained one left out');
    assert.ok(pareto.points[1] >= 1 && pareto.points[1] <= MACRO_TRIALS, 'the front is marked');
    assert.match(pareto.labels[1] ?? '', /Pareto front \(accuracy ↑, FLOPs ↓\)/);
    assert.equal(
      await frame.locator('#chart-pareto').getAttribute('aria-label'),
      'Validation accuracy vs FLOPs: the Pareto front the search optimised',
    );
    await frame
      .locator('#chart-pareto')
      .evaluate((canvas) => (canvas as { closest(selector: string): { scrollIntoView(): void } }).closest('section').scrollIntoView());
    await snap(page, 'pareto-front');

    // Export Model… as TensorFlow.js, into a folder typed into VS Code's save dialog.
    const out = join(workspace, 'digits-model');
    await contextMenu(page, `trial ${retrained.idx} · retrained from #1`, 'Export Model…');
    await quickInput(page).waitFor({ state: 'visible', timeout: 15_000 });
    const formats = await page.locator('.quick-input-widget .quick-input-list .monaco-list-row .label-name').allInnerTexts();
    // Each item's detail line is a label too: the format names are the ones among them, in order.
    const offered = ['TensorFlow.js', 'Keras', 'PyTorch', 'JSON', 'SVG'];
    assert.deepEqual(
      formats.filter((label) => offered.includes(label)),
      offered,
    );
    await page.locator('.quick-input-widget .quick-input-list .monaco-list-row').filter({ hasText: 'TensorFlow.js' }).first().click();
    await waitFor(
      async () => /run1-trial\d+-tfjs$/.test(await quickInputValue(page)),
      15_000,
      'the save dialog, proposing a folder named after the trial',
    );
    await quickInput(page).fill(out);
    await snap(page, 'export-save-dialog');
    await page.keyboard.press('Enter');
    await waitForMessage(page, /exported trial \d+ of run 1 as TensorFlow\.js/);
    const model = JSON.parse(readFileSync(join(out, 'model.json'), 'utf8')) as { format?: string; modelTopology?: unknown };
    assert.ok(model.modelTopology, 'model.json is a tfjs LayersModel');
    assert.ok(existsSync(join(out, 'weights.bin')));

    // The retrained trial's view says what it is.
    await clearNotifications(page);
    await row(page, `trial ${retrained.idx} · retrained from #1`).click();
    const trialFrame = await waitForPanel(page, 'trial');
    assert.equal(await trialFrame.locator('#trial-retrained-from').innerText(), 'retrained from trial 1');
    const details = await trialFrame.locator('#trial-details').innerText();
    assert.match(details, /test accuracy\s+\d\.\d{4}/);
    assert.match(details, /trained weights\s+kept/);
    await snap(page, 'trial-view');
    // Its Export Model… button asks for the format, as the Runs tree's does.
    await trialFrame.locator('#trial-export').click();
    await page.locator('.quick-input-widget .quick-input-list .monaco-list-row').filter({ hasText: 'TensorFlow.js' }).first().waitFor({
      state: 'visible',
      timeout: 15_000,
    });
    await page.keyboard.press('Escape');
    await collapse(page, '#1 retrain-macro');
  },
);

test(
  "a one-shot ENAS run's automatic retraining shows as retrained; Retrain… on it retrains its pick; Delete Run… deletes a run",
  { timeout: 2 * TRAINING_TIMEOUT + 3 * 60_000 },
  async () => {
    const { page } = current();
    await searchFromPalette(page, { file: 'enas.nas.yaml', db: dbPath, runId: 2, label: '#2 retrain-enas', timeout: TRAINING_TIMEOUT });
    const automatic = dbTrials(2).at(-1)!;
    assert.equal(automatic.idx, ENAS_TRIALS - 1);
    assert.ok(automatic.retrained_from !== null, 'the last trial is the retrained pick');
    await expand(page, '#2 retrain-enas', automatic.idx);
    await retrainedRow(page, automatic);

    // Retrain… on the retrained trial retrains the trial it came from (the final recipe: 2 × 1 epoch proposed).
    const again = await retrainFromTree(page, 2, `trial ${automatic.idx} · retrained from #${automatic.retrained_from}`, '2', '1');
    assert.equal(again.retrained_from, automatic.retrained_from);
    await retrainedRow(page, again);
    await clearNotifications(page);
    await snap(page, 'enas-runs-tree');

    // The notification's Cancel stops a retraining: its trial is recorded interrupted.
    await startRetraining(page, `trial ${automatic.idx} · retrained from #${automatic.retrained_from}`, '2', '200');
    // Once it trains (a stop while its trainer starts records nothing).
    await waitFor(() => dbTrials(2).at(-1)?.status === 'running', 60_000, 'the retraining to start training', 250);
    // The tree shows it running (the pointer moved off the tree, whose tooltip would cover it).
    await page.locator('.editor-instance').first().hover();
    await waitFor(
      async () =>
        (await treeRows(page, 'Runs')).some((r) => r.label === `trial ${again.idx + 1} · retrained from #${automatic.retrained_from}`),
      15_000,
      async () => `the running retraining in the Runs tree (rows: ${JSON.stringify(await treeRows(page, 'Runs'))})`,
    );
    await snap(page, 'progress');
    const cancel = page.locator('.notifications-toasts .notification-toast .monaco-button').filter({ hasText: /^Cancel$/ });
    await cancel.first().click();
    const cancelled = await waitFor(
      () => {
        const last = dbTrials(2).at(-1);
        return last && last.idx === again.idx + 1 && last.status !== 'running' ? last : undefined;
      },
      60_000,
      'the cancelled retraining recorded',
      500,
    );
    assert.equal(cancelled.status, 'interrupted');
    await waitForMessage(
      page,
      new RegExp(`the retraining of trial ${automatic.retrained_from} \\(trial ${cancelled.idx}\\) is interrupted`),
    );
    await collapse(page, '#2 retrain-enas');

    // Delete Run… asks first, in a modal dialog that names the run; its open dashboard closes with it.
    await clearNotifications(page);
    await openDashboardFromTree(page, '#1 retrain-macro');
    const deletedRunTab = page.locator('.tabs-container .tab').filter({ hasText: /NAS Run 1\b/ });
    assert.equal(await deletedRunTab.count(), 1, "run 1's dashboard is open");
    await contextMenu(page, '#1 retrain-macro', 'Delete Run…');
    const dialog = await waitForMessage(page, /Delete run #1 "retrain-macro"\?/);
    console.log(`dialog: ${dialog}`);
    await snap(page, 'delete-run');
    await page
      .locator('.monaco-dialog-box .dialog-buttons .monaco-button')
      .filter({ hasText: /^Delete$/ })
      .click();
    await waitFor(() => dbRunStatus(1) === undefined, 30_000, 'run 1 deleted from the database');
    await waitFor(
      async () => !(await treeRows(page, 'Runs')).some((r) => r.label === '#1 retrain-macro'),
      30_000,
      async () => `run 1 gone from the Runs tree (rows: ${JSON.stringify(await treeRows(page, 'Runs'))})`,
    );
    await waitFor(async () => (await deletedRunTab.count()) === 0, 10_000, "run 1's dashboard to close");
    assert.ok(!existsSync(`${dbPath()}-weights/run-1`), "the run's kept weights are gone");
    assert.ok(existsSync(`${dbPath()}-weights/run-2`), "the other run's are kept");
  },
);
