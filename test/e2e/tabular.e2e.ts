// The NAS-Bench-201 example in a real VS Code (code-server 4.100.3): it runs from the palette like
// any other search, its trials fill the Runs tree, and the trial view draws the benchmark's cell; a
// long tabular search stops promptly on Stop Search (issue 14: the loop must yield to the event loop).
// Needs: bash scripts/e2e-setup.sh (once per machine) and npm run build (dist/extension.js, dist/webview/).
// Run: node --import tsx --test --test-concurrency=1 test/e2e/tabular.e2e.ts
// Screenshots land in test/e2e/screenshots/ as <nn>-tabular-*.png.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import {
  assertSetup,
  openFile,
  openSession,
  REPO,
  runCommand,
  screenshot,
  showViewContainer,
  treeRows,
  viewPane,
  waitFor,
  webviewFrame,
  type Page,
  type Session,
} from './harness.ts';

const EXAMPLE = readFileSync(join(REPO, 'examples', 'nasbench201.nas.yaml'), 'utf8');
const BUDGET = Number(/trials: (\d+)/.exec(EXAMPLE)?.[1]);
/** Lookups enough that the search is still running when it is stopped (20,000 take some seconds). */
const LONG_BUDGET = 20_000;
const LONG = EXAMPLE.replace(/^name: .*$/m, 'name: long').replace(/trials: \d+/, `trials: ${LONG_BUDGET}`);

let session: Session;
let page: Page;

before(async () => {
  assertSetup();
  session = await openSession({ trusted: true, files: { 'nasbench201.nas.yaml': EXAMPLE, 'long.nas.yaml': LONG } });
  page = session.page;
});

after(async () => {
  await session?.close();
});

function bestTrial(dbPath: string): { idx: number; graph_json: string } {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    return db
      .prepare("SELECT idx, graph_json FROM trials WHERE run_id = 1 AND status = 'done' ORDER BY reward DESC, idx LIMIT 1")
      .get() as { idx: number; graph_json: string };
  } finally {
    db.close();
  }
}

function trialRow(label: string) {
  return viewPane(page, 'Runs')
    .locator('.monaco-list-row')
    .filter({ has: page.locator('.label-name').filter({ hasText: new RegExp(`^${label}$`) }) })
    .first();
}

test('the NAS-Bench-201 example runs from the palette, and the trial view draws its best cell', { timeout: 4 * 60_000 }, async () => {
  assert.ok(BUDGET > 0);
  await openFile(page, 'nasbench201.nas.yaml');
  await runCommand(page, 'NAS: Start Architecture Search');
  // A hundred lookups take about a second: the run is done before the status bar could show it.
  await showViewContainer(page, 'NAS Studio');
  await waitFor(
    async () => (await treeRows(page, 'Runs')).find((row) => row.level === 1 && row.description.startsWith(`done · ${BUDGET}/${BUDGET}`)),
    90_000,
    async () => `the run done with ${BUDGET}/${BUDGET} trials in the Runs tree (rows: ${JSON.stringify(await treeRows(page, 'Runs'))})`,
  );
  const run = viewPane(page, 'Runs').locator('.monaco-list-row').first();
  await run.waitFor({ state: 'visible', timeout: 30_000 });
  if ((await run.getAttribute('aria-expanded')) !== 'true') await run.locator('.monaco-tl-twistie').click();
  await runCommand(page, 'NAS: Sort Trials by Reward');
  const best = bestTrial(join(session.workspace, '.nas-studio', 'runs.db'));
  await waitFor(
    async () => (await treeRows(page, 'Runs')).find((row) => row.level === 2)?.label === `trial ${best.idx}`,
    30_000,
    async () => `trial ${best.idx} first (rows: ${JSON.stringify((await treeRows(page, 'Runs')).slice(0, 4))})`,
  );
  await screenshot(page, 'tabular-runs-tree');

  await trialRow(`trial ${best.idx}`).click();
  const frame = webviewFrame(page);
  const graph = JSON.parse(best.graph_json) as { kind: string; edges: Array<{ operation: string }> };
  assert.equal(graph.kind, 'nasbench201');
  const expectedEdges = graph.edges.filter((edge) => edge.operation !== 'none').length;
  await waitFor(async () => (await frame.locator('svg .arch-node').count()) === 4, 60_000, 'the trial view to draw the cell');
  assert.equal(
    await frame.locator('svg .arch-edge').count(),
    expectedEdges,
    `one drawn edge per operation other than none in ${best.graph_json}`,
  );
  const text = await frame.locator('body').innerText();
  for (const edge of graph.edges.filter((e) => e.operation !== 'none'))
    assert.ok(text.includes(edge.operation), `the drawing labels ${edge.operation}`);
  assert.match(text, /No learning curve: its accuracies were looked up in the NAS-Bench-201 table/);
  await screenshot(page, 'tabular-trial-view');
});

function runRow(dbPath: string, name: string): { id: number; status: string; finished_at: string | null; done: number } | undefined {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    return db
      .prepare(
        `SELECT id, status, finished_at, (SELECT COUNT(*) FROM trials WHERE run_id = runs.id AND status = 'done') AS done ` +
          'FROM runs WHERE name = ?',
      )
      .get(name) as { id: number; status: string; finished_at: string | null; done: number } | undefined;
  } finally {
    db.close();
  }
}

test('Stop Search during a tabular search of 20,000 lookups stops it at once', { timeout: 4 * 60_000 }, async () => {
  const dbPath = join(session.workspace, '.nas-studio', 'runs.db');
  await openFile(page, 'long.nas.yaml');
  await runCommand(page, 'NAS: Start Architecture Search');
  await waitFor(
    () => {
      const run = runRow(dbPath, 'long');
      return run?.status === 'running' && run.done >= 200;
    },
    90_000,
    () => `the long search to be running with 200 lookups done (${JSON.stringify(runRow(dbPath, 'long'))})`,
    50,
  );
  const commandAt = Date.now();
  await runCommand(page, 'NAS: Stop Search');
  const clickedAt = Date.now();
  const stopped = await waitFor(
    () => {
      const run = runRow(dbPath, 'long');
      return run?.status === 'stopped' ? run : undefined;
    },
    30_000,
    () => `the long search to stop (${JSON.stringify(runRow(dbPath, 'long'))})`,
    20,
  );
  const seenAt = Date.now();
  // The run's finished_at is written as the engine records the stop: from the click on the command to there.
  const recorded = Date.parse(stopped.finished_at!) - clickedAt;
  console.log(
    `Stop Search → run stopped: ${recorded} ms from the click to the recorded stop, ${seenAt - clickedAt} ms until a ` +
      `poll of the database saw it (${clickedAt - commandAt} ms in the palette before), at ${stopped.done} of ${LONG_BUDGET} lookups`,
  );
  assert.ok(stopped.done < LONG_BUDGET, `stopped short of the budget (${stopped.done})`);
  // The target is a second; a loaded 2-core machine gets a margin, and the figure above is the measurement.
  assert.ok(recorded < 3000, `the stop took ${recorded} ms`);
  await showViewContainer(page, 'NAS Studio');
  await waitFor(
    async () => (await treeRows(page, 'Runs')).find((row) => row.level === 1 && row.description.startsWith('stopped')),
    15_000,
    async () => `the Runs tree to show the long run stopped (rows: ${JSON.stringify(await treeRows(page, 'Runs'))})`,
  );
});
