// The one-shot strategies in a real VS Code (code-server 4.100.3): a tiny DARTS search and a tiny
// ENAS search start from the palette and finish; the Runs tree lists their trials (DARTS: one
// shared-weights trial per epoch and the retrained cell; ENAS: the scored children, the final
// samples and the retrained child); the DARTS run's dashboard draws the alpha chart (one line per
// cell type and operation of the space) and its notes; the ENAS retrained trial's view draws the cell.
// Needs: bash scripts/e2e-setup.sh (once per machine) and npm run build (dist/extension.js, dist/webview/).
// Run: node --import tsx --test --test-concurrency=1 test/e2e/oneshot.e2e.ts
// Screenshots land in test/e2e/screenshots/ as <nn>-oneshot-*.png.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import {
  assertSetup,
  openSession,
  readDatabase,
  REPO,
  runCommand,
  searchFromPalette,
  SCREENSHOTS,
  screenshotter,
  setColorTheme,
  sleep,
  treeRows,
  viewPane,
  waitFor,
  waitForPanel,
  type FrameLocator,
  type Page,
  type Session,
} from './harness.ts';

/** Both searches run on the CPU in the engine process; two busy cores make a minute or two of each. */
const SEARCH_TIMEOUT = 6 * 60_000;

const OPERATIONS = ['conv3x3', 'sep_conv3x3', 'max_pool', 'identity'];
const SPACE = `space:
  kind: cell
  nodes: 2
  operations: [${OPERATIONS.join(', ')}]
  cells_per_stage: 1
  stages: 2
  filters: 4
`;

const DARTS_EPOCHS = 2;
const DARTS_RETRAIN = 1;
const DARTS =
  `name: oneshot-darts
dataset: { kind: digits, validation_split: 0.2, seed: 1, max_train_examples: 128 }
${SPACE}strategy: { kind: darts, epochs: ${DARTS_EPOCHS}, batch_size: 32, w_learning_rate: 0.05, alpha_learning_rate: ` +
  `0.01, order: first, retrain: ${DARTS_RETRAIN} }
evaluation: { epochs: 1, batch_size: 32, optimizer: adam, learning_rate: 0.003 }
runtime: { backend: cpu, seed: 1 }
`;

const ENAS_EPOCHS = 2;
const ENAS_CHILDREN = 4;
const ENAS_FINAL = 3;
const ENAS_TRIALS = ENAS_EPOCHS * ENAS_CHILDREN + ENAS_FINAL + 1;
const ENAS =
  `name: oneshot-enas
dataset: { kind: digits, validation_split: 0.2, seed: 1, max_train_examples: 128 }
${SPACE}strategy: { kind: enas, epochs: ${ENAS_EPOCHS}, batch_size: 32, learning_rate: 0.003, children_per_epoch: ${ENAS_CHILDREN}, ` +
  `final_samples: ${ENAS_FINAL}, controller: { hidden: 16, batch_size: 2 } }
evaluation: { epochs: 1, batch_size: 32, optimizer: adam, learning_rate: 0.003 }
runtime: { backend: cpu, seed: 1 }
`;

// ---------------------------------------------------------------------------------------
// The database, read as the test's ground truth

interface DbTrial {
  idx: number;
  status: string;
  evaluator: string;
  reward: number | null;
  test_accuracy: number | null;
  retrained_from: number | null;
  graph_json: string;
}

/** A trial's label in the Runs tree: a retrained trial names the trial it retrains. */
const treeLabel = (t: DbTrial) => (t.retrained_from === null ? `trial ${t.idx}` : `trial ${t.idx} · retrained from #${t.retrained_from}`);

function dbRun(runId: number): { name: string; status: string; strategy: string; budget_trials: number; error: string | null } | undefined {
  if (!existsSync(dbPath())) return undefined;
  return readDatabase(
    dbPath(),
    (db) => db.prepare('SELECT name, status, strategy, budget_trials, error FROM runs WHERE id = ?').get(runId) as never,
  );
}

function dbTrials(runId: number): DbTrial[] {
  return readDatabase(
    dbPath(),
    (db) =>
      db
        .prepare(
          'SELECT idx, status, evaluator, reward, test_accuracy, retrained_from, graph_json FROM trials WHERE run_id = ? ORDER BY idx',
        )
        .all(runId) as DbTrial[],
  );
}

function dbAlphaSteps(runId: number): number {
  return readDatabase(
    dbPath(),
    (db) => (db.prepare('SELECT COUNT(*) AS n FROM alpha_snapshots WHERE run_id = ?').get(runId) as { n: number }).n,
  );
}

function dbNotes(runId: number): string[] {
  return readDatabase(dbPath(), (db) =>
    (db.prepare('SELECT message FROM run_notes WHERE run_id = ? ORDER BY seq').all(runId) as { message: string }[]).map((r) => r.message),
  );
}

interface CellNode {
  inputs: [number, number];
  operations: [string, string];
}

/** What the trial view draws for a cell graph: per cell, 2 inputs + nodes + output; two edges per node and one per output node. */
function expectedCellDrawing(graph: { normal: CellNode[]; reduction: CellNode[] }): { nodes: number; edges: number } {
  let nodes = 0;
  let edges = 0;
  for (const cell of [graph.normal, graph.reduction]) {
    const used = new Set(cell.flatMap((n) => n.inputs.filter((i) => i >= 2).map((i) => i - 2)));
    nodes += 2 + cell.length + 1;
    edges += 2 * cell.length + cell.filter((_, i) => !used.has(i)).length;
  }
  return { nodes, edges };
}

// ---------------------------------------------------------------------------------------
// The session

let session: Session | undefined;

function current(): Session {
  assert.ok(session, 'the session is open');
  return session;
}

function dbPath(): string {
  return join(current().workspace, '.nas-studio', 'runs.db');
}

const snap = screenshotter('oneshot');

before(async () => {
  assertSetup();
  assert.ok(existsSync(join(REPO, 'dist', 'webview')), 'dist/webview is missing: npm run build bundles the panels there');
  if (existsSync(SCREENSHOTS)) for (const name of readdirSync(SCREENSHOTS)) if (name.includes('-oneshot-')) rmSync(join(SCREENSHOTS, name));
  session = await openSession({ trusted: true, files: { 'darts.nas.yaml': DARTS, 'enas.nas.yaml': ENAS } });
});

after(async () => {
  await session?.close();
});

function row(page: Page, label: string) {
  return viewPane(page, 'Runs')
    .locator('.monaco-list-row')
    .filter({ has: page.locator('.label-name').filter({ hasText: new RegExp(`^${label}$`) }) })
    .first();
}

async function expand(page: Page, label: string, lastTrial: number): Promise<void> {
  const run = row(page, label);
  await run.waitFor({ state: 'visible', timeout: 30_000 });
  if ((await run.getAttribute('aria-expanded')) !== 'true') await run.locator('.monaco-tl-twistie').click();
  await waitFor(
    async () => (await treeRows(page, 'Runs')).some((r) => r.level === 2 && new RegExp(`^trial ${lastTrial}( ·|$)`).test(r.label)),
    30_000,
    async () => `trial ${lastTrial} under ${label} (rows: ${JSON.stringify(await treeRows(page, 'Runs'))})`,
  );
}

async function collapse(page: Page, label: string): Promise<void> {
  const run = row(page, label);
  if ((await run.getAttribute('aria-expanded')) === 'true') await run.locator('.monaco-tl-twistie').click();
}

interface AlphaChart {
  labels: string[];
  /** What the drawn legend lists, and whether each box is dashed (the reduction cell's lines). */
  legend: { text: string; dashed: boolean }[];
  points: number[];
  colours: string[];
  canvas: { width: number; height: number };
  legendColour: string;
  tickColour: string;
}

/** The alpha chart on window.__nasCharts: its datasets' labels, point counts and colours, and the legend/axis text colour. */
async function alphaChart(frame: FrameLocator): Promise<AlphaChart | undefined> {
  return frame.locator('body').evaluate(() => {
    type ChartLike = {
      canvas: { width: number; height: number };
      legend?: { legendItems?: { text: string; lineDash?: number[] }[] };
      options: { plugins?: { legend?: { labels?: { color?: string } } }; scales?: { x?: { ticks?: { color?: string } } } };
      data: { datasets: { label?: string; borderColor?: string; data: unknown[] }[] };
    };
    const chart = (globalThis as unknown as { __nasCharts?: { alpha?: ChartLike } }).__nasCharts?.alpha;
    if (!chart) return undefined;
    return {
      labels: chart.data.datasets.map((d) => d.label ?? ''),
      legend: (chart.legend?.legendItems ?? []).map((item) => ({ text: item.text, dashed: (item.lineDash ?? []).length > 0 })),
      points: chart.data.datasets.map((d) => d.data.length),
      colours: chart.data.datasets.map((d) => String(d.borderColor)),
      canvas: { width: chart.canvas.width, height: chart.canvas.height },
      legendColour: String(chart.options.plugins?.legend?.labels?.color ?? ''),
      tickColour: String(chart.options.scales?.x?.ticks?.color ?? ''),
    };
  });
}

async function cssVariable(frame: FrameLocator, name: string): Promise<string> {
  return frame.locator('body').evaluate((body, variable) => {
    const style = (globalThis as unknown as { getComputedStyle(el: unknown): { getPropertyValue(name: string): string } }).getComputedStyle(
      body,
    );
    return style.getPropertyValue(variable).trim();
  }, name);
}

// ---------------------------------------------------------------------------------------

test(
  'DARTS from the palette: shared-weights epoch trials and the retrained cell in the Runs tree; the dashboard draws alpha per operation',
  { timeout: SEARCH_TIMEOUT + 4 * 60_000 },
  async () => {
    const { page } = current();
    const total = DARTS_EPOCHS + DARTS_RETRAIN;
    await searchFromPalette(page, {
      file: 'darts.nas.yaml',
      db: dbPath,
      runId: 1,
      label: '#1 oneshot-darts',
      trials: total,
      timeout: SEARCH_TIMEOUT,
    });
    const run = dbRun(1);
    assert.equal(run?.strategy, 'darts');
    const trials = dbTrials(1);
    assert.deepEqual(
      trials.map((t) => t.evaluator),
      [...Array(DARTS_EPOCHS).fill('shared-weights'), ...Array(DARTS_RETRAIN).fill('train-from-scratch')],
      `one shared-weights trial per epoch, then the retrained cell (${JSON.stringify(trials.map((t) => [t.idx, t.evaluator, t.status]))})`,
    );
    const [searched, retrainedCells] = [trials.slice(0, DARTS_EPOCHS), trials.slice(DARTS_EPOCHS)];
    assert.ok(
      searched.every((t) => t.status === 'done' && t.reward !== null && t.retrained_from === null),
      'every epoch trial is done with a reward',
    );
    // A retraining is measured on the test examples: no reward, its test accuracy.
    assert.ok(
      retrainedCells.every((t) => t.status === 'done' && t.reward === null && t.test_accuracy !== null && t.retrained_from !== null),
      `the retrained cell names the trial it retrains (${JSON.stringify(retrainedCells)})`,
    );

    await expand(page, '#1 oneshot-darts', trials.at(-1)!.idx);
    const rows = (await treeRows(page, 'Runs')).filter((r) => r.level === 2);
    assert.deepEqual(rows.map((r) => r.label).sort(), trials.map(treeLabel).sort(), 'the Runs tree lists every trial of the run');
    await snap(page, 'darts-runs-tree');

    // The run's dashboard, from the inline action on the run row.
    const runRow = row(page, '#1 oneshot-darts');
    await runRow.hover();
    const action = runRow.locator('.actions .action-label[aria-label^="Open Run Dashboard"]');
    await action.waitFor({ state: 'visible', timeout: 10_000 });
    const t0 = Date.now();
    await action.click();
    const frame = await waitForPanel(page, 'dashboard', () => `console: ${current().workbench.console.slice(-5).join(' / ')}`);
    console.log(`DARTS dashboard: click → first full render ${Date.now() - t0} ms`);

    assert.equal(await frame.locator('canvas#chart-alpha').count(), 1, 'a DARTS run has the alpha chart');
    const steps = dbAlphaSteps(1);
    assert.ok(steps >= DARTS_EPOCHS, `alpha snapshots in the database (${steps})`);
    const chart = await alphaChart(frame);
    console.log(`alpha chart: ${JSON.stringify(chart)}; database: ${steps} alpha snapshots`);
    assert.ok(chart, 'the page exposes the alpha chart on window.__nasCharts');
    const operations = [...OPERATIONS, 'none'];
    const expectedLabels = [...operations.map((op) => `normal ${op}`), ...operations.map((op) => `reduction ${op}`)];
    assert.deepEqual(chart.labels, expectedLabels, 'one line per cell type and mixed operation of the space (none last)');
    assert.deepEqual(
      chart.legend.map((item) => item.text),
      expectedLabels,
      'the drawn legend lists every operation of the space for both cell types',
    );
    assert.deepEqual(
      chart.legend.map((item) => item.dashed),
      expectedLabels.map((label) => label.startsWith('reduction')),
      "the reduction cell's lines and legend boxes are dashed",
    );
    assert.ok(
      chart.points.every((n) => n === steps),
      `every line has one point per alpha snapshot (${steps}): ${JSON.stringify(chart.points)}`,
    );
    assert.ok(chart.canvas.width > 100 && chart.canvas.height > 50, `the canvas has a size (${JSON.stringify(chart.canvas)})`);
    const card = frame.locator('canvas#chart-alpha').locator('xpath=ancestor::*[contains(@class, "card")][1]');
    assert.match(await card.innerText(), /DARTS: mean weight of each operation/, 'the chart card has its title');

    // The weights are softmaxes: each cell type's operations sum to 1 at every step.
    const sums = await frame.locator('body').evaluate((_, n) => {
      type ChartLike = { data: { datasets: { data: { x: number; y: number }[] }[] } };
      const sets = (globalThis as unknown as { __nasCharts: { alpha: ChartLike } }).__nasCharts.alpha.data.datasets;
      const out: number[] = [];
      for (const start of [0, n]) {
        for (let k = 0; k < sets[start].data.length; k++) {
          let sum = 0;
          for (let op = 0; op < n; op++) sum += sets[start + op].data[k].y;
          out.push(sum);
        }
      }
      return out;
    }, operations.length);
    assert.ok(
      sums.every((s) => Math.abs(s - 1) < 1e-3),
      `alpha softmax sums to 1 per cell and step (${JSON.stringify(sums)})`,
    );

    // The theme's chart colours: the first operation's line is --vscode-charts-blue.
    const blue = await cssVariable(frame, '--vscode-charts-blue');
    assert.ok(blue, 'the webview has the theme variables');
    assert.equal(chart.colours[0].toLowerCase(), blue.toLowerCase(), "the first line is in the theme's chart blue");
    assert.equal(
      chart.legendColour.toLowerCase(),
      (await cssVariable(frame, '--vscode-editor-foreground')).toLowerCase(),
      'the legend text is the editor foreground',
    );

    // The notes section: shown with the collapse warning when the run has one, hidden otherwise.
    const notes = dbNotes(1);
    const shownNotes = await frame
      .locator('#run-notes')
      .evaluate((el) => ({ hidden: (el as { hidden: boolean }).hidden, text: (el as { innerText: string }).innerText }));
    console.log(`run notes: database ${JSON.stringify(notes)}; page ${JSON.stringify(shownNotes)}`);
    if (notes.length > 0) {
      assert.equal(shownNotes.hidden, false, 'the notes section shows');
      for (const note of notes) assert.ok(shownNotes.text.includes(note.slice(0, 60)), `the page shows the note "${note}"`);
    } else {
      assert.equal(shownNotes.hidden, true, 'no notes: the section is hidden');
    }

    // Both themes: the chart repaints its lines, legend and axes in each theme's colours.
    const seen: Record<string, AlphaChart> = {};
    for (const [theme, kind] of [
      ['Default Dark Modern', 'dark'],
      ['Default Light Modern', 'light'],
    ] as const) {
      await setColorTheme(page, theme);
      await waitFor(
        async () =>
          new RegExp(`vscode-${kind}`).test(await frame.locator('body').evaluate((body) => (body as { className: string }).className)),
        15_000,
        `the webview to be ${kind}`,
      );
      const themeBlue = await cssVariable(frame, '--vscode-charts-blue');
      const foreground = await cssVariable(frame, '--vscode-editor-foreground');
      seen[kind] = await waitFor(
        async () => {
          const c = await alphaChart(frame);
          return c && c.colours[0].toLowerCase() === themeBlue.toLowerCase() && c.tickColour.toLowerCase() === foreground.toLowerCase()
            ? c
            : false;
        },
        15_000,
        async () =>
          `the alpha chart to repaint in the ${kind} theme (blue ${themeBlue}, foreground ${foreground}; ` +
          `chart ${JSON.stringify(await alphaChart(frame))})`,
      );
      await frame
        .locator('#chart-alpha')
        .evaluate((canvas) => (canvas as { scrollIntoView(options: object): void }).scrollIntoView({ block: 'center' }));
      await sleep(500);
      await snap(page, `darts-alpha-${kind}`);
    }
    assert.notEqual(seen.dark.tickColour, seen.light.tickColour, 'the axis text changes colour with the theme');
    assert.notEqual(seen.dark.colours[0], seen.light.colours[0], 'the lines change colour with the theme');
    await runCommand(page, 'View: Close All Editors');
  },
);

test(
  `ENAS from the palette: ${ENAS_TRIALS} trials in the Runs tree; the retrained trial's view draws its cell`,
  { timeout: SEARCH_TIMEOUT + 3 * 60_000 },
  async () => {
    const { page } = current();
    await collapse(page, '#1 oneshot-darts');
    await searchFromPalette(page, {
      file: 'enas.nas.yaml',
      db: dbPath,
      runId: 2,
      label: '#2 oneshot-enas',
      trials: ENAS_TRIALS,
      timeout: SEARCH_TIMEOUT,
    });
    const run = dbRun(2);
    assert.equal(run?.strategy, 'enas');
    assert.equal(run?.budget_trials, ENAS_TRIALS);
    const trials = dbTrials(2);
    assert.equal(
      trials.length,
      ENAS_TRIALS,
      `${ENAS_EPOCHS} x ${ENAS_CHILDREN} scored children + ${ENAS_FINAL} final samples + 1 retrained`,
    );
    assert.equal(
      trials.filter((t) => t.evaluator === 'shared-weights').length,
      ENAS_TRIALS - 1,
      'every trial but the last is scored with shared weights',
    );
    const retrained = trials.at(-1)!;
    assert.equal(retrained.evaluator, 'train-from-scratch', 'the last trial is the retrained child');

    await expand(page, '#2 oneshot-enas', retrained.idx);
    const rows = (await treeRows(page, 'Runs')).filter((r) => r.level === 2);
    assert.equal(rows.length, ENAS_TRIALS, `the Runs tree lists ${ENAS_TRIALS} trials (${JSON.stringify(rows.map((r) => r.label))})`);
    await snap(page, 'enas-runs-tree');

    const graph = JSON.parse(retrained.graph_json) as { kind: string; normal: CellNode[]; reduction: CellNode[] };
    assert.equal(graph.kind, 'cell');
    const expected = expectedCellDrawing(graph);
    const t0 = Date.now();
    assert.ok(retrained.retrained_from !== null, 'the retrained child names the trial it retrains');
    await row(page, treeLabel(retrained)).click();
    const frame = await waitForPanel(page, 'trial');
    console.log(`ENAS trial view: click → drawn ${Date.now() - t0} ms`);
    const drawn = { nodes: await frame.locator('svg .arch-node').count(), edges: await frame.locator('svg .arch-edge').count() };
    console.log(
      `trial ${retrained.idx} graph ${retrained.graph_json}: drawn ${JSON.stringify(drawn)}, expected ${JSON.stringify(expected)}`,
    );
    assert.deepEqual(
      drawn,
      expected,
      'the drawing has both cells: inputs, nodes and output, two edges per node and one to the output per unused node',
    );
    const text = await frame.locator('body').innerText();
    assert.match(text, /Normal cell/);
    assert.match(text, /Reduction cell/);
    for (const op of new Set([...graph.normal, ...graph.reduction].flatMap((n) => n.operations)))
      assert.ok(text.includes(op), `the drawing labels ${op}`);
    assert.match(
      await page.locator('.tabs-container .tab.active').innerText(),
      new RegExp(`Trial ${retrained.idx}`),
      'the active tab is the trial view',
    );
    await snap(page, 'enas-trial-view');
  },
);
