// Early stopping in a real VS Code (code-server 4.100.3): an ASHA search on digits prunes trials, the
// Runs tree says where each stopped (`pruned @ epoch k`), and the dashboard's intermediate-values chart
// holds every trial's curve (pruned ones apart) with the rung thresholds, in both themes; a live ASHA
// run's chart ends at what the database holds.
// Needs: bash scripts/e2e-setup.sh (once per machine) and npm run build (dist/extension.js, dist/webview/).
// Run: node --import tsx --test --test-concurrency=1 test/e2e/fidelity.e2e.ts
// Screenshots land in test/e2e/screenshots/ as <nn>-fidelity-*.png.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import {
  assertSetup,
  openFile,
  openSession,
  pickQuickItem,
  readDatabase,
  REPO,
  runCommand,
  SCREENSHOTS,
  screenshotter,
  setColorTheme,
  showViewContainer,
  sleep,
  treeRows,
  viewPane,
  waitFor,
  waitForPanel,
  type FrameLocator,
  type Page,
  type Session,
} from './harness.ts';

const EPOCHS = 3;

/** ASHA with rungs at epochs 1 and 2 (η = 2): about half the trials stop at each. */
function ashaSearch(name: string, trials: number, examples: number): string {
  return `name: ${name}
dataset: { kind: digits, validation_split: 0.2, test_split: 0.1, seed: 1, max_train_examples: ${examples} }
space: { kind: macro, layers: 2, filter_heights: [1, 3], filter_widths: [1, 3], filters: [4, 8], skip_connections: true }
strategy: { kind: random }
scheduler: { kind: asha, min_epochs: 1, reduction_factor: 2 }
evaluation: { epochs: ${EPOCHS}, batch_size: 32, learning_rate: 0.003 }
budget: { trials: ${trials} }
runtime: { backend: cpu, seed: 7 }
`;
}

const FINISHED_TRIALS = 8;
/** Slower trials (more examples), so the dashboard opens while the run goes on. */
const LIVE_TRIALS = 12;

const snap = screenshotter('fidelity');
let session: Session | undefined;
let dbPath = '';

interface DbTrial {
  idx: number;
  status: string;
  reward: number | null;
  epochs: number;
}

function dbTrials(runId: number): DbTrial[] {
  return readDatabase(
    dbPath,
    (db) =>
      db
        .prepare(
          'SELECT idx, status, reward, (SELECT COUNT(*) FROM epochs e WHERE e.run_id = t.run_id AND e.trial_idx = t.idx) AS epochs ' +
            'FROM trials t WHERE run_id = ? ORDER BY idx',
        )
        .all(runId) as DbTrial[],
  );
}

function runStatus(runId: number): string | undefined {
  return readDatabase(
    dbPath,
    (db) => (db.prepare('SELECT status FROM runs WHERE id = ?').get(runId) as { status: string } | undefined)?.status,
  );
}

before(async () => {
  assertSetup();
  assert.ok(existsSync(join(REPO, 'dist', 'webview')), 'dist/webview is missing: npm run build bundles the panels there');
  // This file's screenshots from an earlier run go; the other e2e files' stay.
  if (existsSync(SCREENSHOTS))
    for (const name of readdirSync(SCREENSHOTS)) if (name.includes('-fidelity-')) rmSync(join(SCREENSHOTS, name));
  session = await openSession({
    trusted: true,
    files: {
      'asha.nas.yaml': ashaSearch('asha', FINISHED_TRIALS, 96),
      'asha-live.nas.yaml': ashaSearch('asha-live', LIVE_TRIALS, 600),
    },
    prepareWorkspace: (workspace) => {
      mkdirSync(join(workspace, '.nas-studio'), { recursive: true });
      const cli = join(REPO, 'dist', 'cli.js');
      execFileSync(process.execPath, [cli, 'search', join(workspace, 'asha.nas.yaml'), '--db', join(workspace, '.nas-studio', 'runs.db')], {
        stdio: 'pipe',
        timeout: 120_000,
      });
    },
  });
  dbPath = join(session.workspace, '.nas-studio', 'runs.db');
  await showViewContainer(session.page, 'NAS Studio');
});

after(async () => {
  await session?.close();
});

function current(): Session {
  assert.ok(session, 'the session opened');
  return session;
}

function runRow(page: Page, label: string) {
  return viewPane(page, 'Runs')
    .locator('.monaco-list-row')
    .filter({ has: page.locator('.label-name').filter({ hasText: new RegExp(`^${label}$`) }) })
    .first();
}

/** The intermediate-values chart's datasets (label and points) and the reward chart's pruned points, in one read. */
async function chartData(frame: FrameLocator): Promise<{
  intermediate: { label: string; points: { x: number; y: number | null; trial?: number }[] }[];
  prunedRewards: number;
}> {
  return frame.locator('body').evaluate(() => {
    // No named functions in here: tsx's __name helper does not exist in the page.
    type ChartLike = { data: { datasets: { label?: string; data: { x: number; y: number | null; trial?: number }[] }[] } };
    const charts = (globalThis as unknown as { __nasCharts: { reward: ChartLike; intermediate?: ChartLike } }).__nasCharts;
    return {
      intermediate: (charts.intermediate?.data.datasets ?? []).map((d) => ({
        label: d.label ?? '',
        points: d.data.map((p) => ({ x: p.x, y: p.y, trial: p.trial })),
      })),
      prunedRewards: charts.reward.data.datasets.find((d) => /pruned/i.test(d.label ?? ''))?.data.length ?? 0,
    };
  });
}

/** Per trial, the epochs the chart draws for it (its points with a value). */
function chartedEpochs(sets: { label: string; points: { y: number | null; trial?: number }[] }[], label: RegExp): Map<number, number> {
  const epochs = new Map<number, number>();
  for (const set of sets.filter((s) => label.test(s.label)))
    for (const p of set.points) if (p.trial !== undefined && p.y !== null) epochs.set(p.trial, (epochs.get(p.trial) ?? 0) + 1);
  return epochs;
}

const byTrial = (trials: DbTrial[]) => new Map(trials.map((t) => [t.idx, t.epochs]));

test('an ASHA run: pruned trials say where they stopped in the Runs tree', { timeout: 3 * 60_000 }, async () => {
  const { page } = current();
  const trials = dbTrials(1);
  const pruned = trials.filter((t) => t.status === 'pruned');
  console.log(`run 1: ${JSON.stringify(trials)}`);
  assert.equal(trials.length, FINISHED_TRIALS);
  assert.ok(pruned.length > 0, 'ASHA pruned some trials');
  assert.ok(
    pruned.every((t) => t.epochs >= 1 && t.epochs < EPOCHS),
    'a pruned trial stopped after a rung, before its last epoch',
  );

  const row = runRow(page, '#1 asha');
  await row.waitFor({ state: 'visible', timeout: 60_000 });
  if ((await row.getAttribute('aria-expanded')) !== 'true') await row.locator('.monaco-tl-twistie').click();
  const rows = await waitFor(
    async () => {
      const shown = (await treeRows(page, 'Runs')).filter((r) => r.level === 2);
      return shown.length === FINISHED_TRIALS ? shown : false;
    },
    30_000,
    async () => `the run's ${FINISHED_TRIALS} trials in the Runs tree (rows: ${JSON.stringify(await treeRows(page, 'Runs'))})`,
  );
  for (const trial of trials) {
    const shown = rows.find((r) => r.label === `trial ${trial.idx}`);
    assert.ok(shown, `trial ${trial.idx} in the tree`);
    if (trial.status === 'pruned') assert.match(shown.description, new RegExp(`pruned @ epoch ${trial.epochs}$`), `trial ${trial.idx}`);
    else assert.doesNotMatch(shown.description, /pruned/, `trial ${trial.idx}`);
  }
  await snap(page, 'runs-tree');

  // The trial view of a pruned trial says where it stopped, and why its numbers are that epoch's.
  const stopped = pruned[0];
  await runRow(page, `trial ${stopped.idx}`).click();
  const frame = await waitForPanel(page, 'trial');
  assert.equal(await frame.locator('#trial-status').innerText(), `pruned @ epoch ${stopped.epochs}`);
  assert.match(await frame.locator('#trial-pruned').innerText(), new RegExp(`stopped this trial after epoch ${stopped.epochs}:`));
  await snap(page, 'trial-view-pruned');
});

for (const [theme, kind] of [
  ['Default Light Modern', 'light'],
  ['Default Dark Modern', 'dark'],
] as const) {
  test(
    `the dashboard of an ASHA run: its intermediate values and rungs, pruned trials apart (${kind})`,
    { timeout: 3 * 60_000 },
    async () => {
      const { page } = current();
      await runCommand(page, 'View: Close All Editors');
      await setColorTheme(page, theme);
      await runCommand(page, 'NAS: Open Run Dashboard');
      const runs = readDatabase(dbPath, (db) => (db.prepare('SELECT COUNT(*) AS n FROM runs').get() as { n: number }).n);
      if (runs > 1) await pickQuickItem(page, '#1 asha');
      const frame = await waitForPanel(page, 'dashboard');
      await frame.locator('canvas#chart-intermediate').waitFor({ state: 'attached', timeout: 10_000 });

      const trials = dbTrials(1);
      const pruned = trials.filter((t) => t.status === 'pruned');
      const { intermediate, prunedRewards } = await chartData(frame);
      console.log(`intermediate chart: ${JSON.stringify(intermediate.map((d) => ({ label: d.label, n: d.points.length })))}`);
      assert.deepEqual(
        chartedEpochs(intermediate, /trained in full/),
        byTrial(trials.filter((t) => t.status === 'done')),
        'every trial trained in full has its whole curve',
      );
      assert.deepEqual(chartedEpochs(intermediate, /^pruned$/), byTrial(pruned), 'every pruned trial has its curve up to its stop, apart');
      const rungs = intermediate.filter((d) => /rung/.test(d.label)).flatMap((d) => d.points);
      assert.deepEqual(
        rungs.map((p) => p.x),
        [1, 2],
        `one mark per rung (epochs 1 and 2) (${JSON.stringify(rungs)})`,
      );
      assert.ok(
        rungs.every((p) => p.y !== null && p.y > 0 && p.y <= 1),
        `rung thresholds are accuracies (${JSON.stringify(rungs)})`,
      );
      assert.equal(prunedRewards, pruned.filter((t) => t.reward !== null).length, 'pruned trials are marked apart in the reward chart');
      await sleep(300);
      await snap(page, `dashboard-${kind}`);

      await frame
        .locator('#chart-intermediate')
        .evaluate((canvas) => (canvas as { scrollIntoView(options: object): void }).scrollIntoView({ block: 'center' }));
      await sleep(300);
      await snap(page, `dashboard-intermediate-${kind}`);

      // The table's status filter keeps the pruned trials, each with its stop.
      await frame.locator('#trial-status-filter').selectOption('pruned');
      await frame
        .locator('#trial-table')
        .evaluate((table) => (table as { scrollIntoView(options: object): void }).scrollIntoView({ block: 'center' }));
      const rows = await waitFor(
        async () => {
          const texts = await frame.locator('#trial-table tbody tr.trial-row').allInnerTexts();
          return texts.length === pruned.length ? texts : false;
        },
        10_000,
        async () => `the table to show the ${pruned.length} pruned trials (${await frame.locator('#trial-count').innerText()})`,
      );
      for (const [i, text] of rows.entries()) assert.match(text, new RegExp(`^${pruned[i].idx}\\s+pruned @ epoch ${pruned[i].epochs}\\s`));
      await snap(page, `dashboard-table-pruned-${kind}`);
    },
  );
}

test('a live ASHA run: its intermediate values grow, and end at what the database holds', { timeout: 4 * 60_000 }, async () => {
  const { page } = current();
  await runCommand(page, 'View: Close All Editors');
  await openFile(page, 'asha-live.nas.yaml');
  await runCommand(page, 'NAS: Start Architecture Search');
  await waitFor(() => runStatus(2) === 'running', 60_000, 'the live run to start');
  await runCommand(page, 'NAS: Open Run Dashboard');
  await pickQuickItem(page, '#2 asha-live');
  const frame = await waitForPanel(page, 'dashboard');
  const atOpen = dbTrials(2).filter((t) => t.status !== 'running').length;
  console.log(`live dashboard opened with ${atOpen} of ${LIVE_TRIALS} trials finished`);

  await waitFor(
    () => runStatus(2) === 'done',
    180_000,
    () => `the live run to finish (${runStatus(2)})`,
    1000,
  );
  const trials = dbTrials(2);
  await waitFor(
    async () => {
      const { intermediate } = await chartData(frame);
      const charted = chartedEpochs(intermediate, /trained in full|^pruned$|in training|failed/);
      return JSON.stringify([...charted].sort((a, b) => a[0] - b[0])) === JSON.stringify([...byTrial(trials)].filter(([, n]) => n > 0));
    },
    15_000,
    async () =>
      `the live chart to hold every trial's stored epochs (${JSON.stringify(trials)}; ` +
      `chart ${JSON.stringify((await chartData(frame)).intermediate.map((d) => ({ label: d.label, n: d.points.length })))})`,
  );
  const { intermediate } = await chartData(frame);
  assert.deepEqual(chartedEpochs(intermediate, /^pruned$/), byTrial(trials.filter((t) => t.status === 'pruned')), 'pruned trials apart');
  assert.equal(chartedEpochs(intermediate, /in training/).size, 0, 'no trial left in training');
  assert.ok(
    intermediate.filter((d) => /rung/.test(d.label)).flatMap((d) => d.points).length > 0,
    'the rung thresholds came with the finished trials',
  );
  await frame
    .locator('#chart-intermediate')
    .evaluate((canvas) => (canvas as { scrollIntoView(options: object): void }).scrollIntoView({ block: 'center' }));
  await sleep(300);
  await snap(page, 'dashboard-live');
});
