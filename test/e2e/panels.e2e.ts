// The webview panels (run dashboard, trial view, run comparison) in a real VS Code (code-server
// 4.100.3), driven through the UI: charts hold what the database holds, the trial view draws the
// trial's graph, a live run's dashboard grows, both themes are readable, two runs compare.
// Needs: bash scripts/e2e-setup.sh (once per machine) and npm run build (dist/extension.js, dist/webview/).
// Run: node --import tsx --test --test-concurrency=1 test/e2e/panels.e2e.ts
// Screenshots land in test/e2e/screenshots/ as <nn>-panels-*.png (the theme ones say light or dark).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import {
  assertSetup,
  leftoverProcesses,
  messages,
  openFile,
  openSession,
  pickQuickItem,
  readDatabase,
  rendered,
  REPO,
  runCommand,
  SCREENSHOTS,
  screenshotter,
  setColorTheme,
  showViewContainer,
  sleep,
  statusBarTexts,
  treeRows,
  viewPane,
  waitFor,
  waitForPanel,
  webviewFrame,
  type FrameLocator,
  type Page,
  type Session,
} from './harness.ts';
import { tinySearchText } from '../support/tiny.ts';

const FINISHED_TRIALS = 12;
/** The live search: far more than the test lets run, so it is still going when the dashboard opens. */
const LIVE_BUDGET = 400;
const ENGINE_PROCESSES = 'dist/engine.js|trainer-process.js';

// ---------------------------------------------------------------------------------------
// The database, read as the test's ground truth

interface DbTrial {
  idx: number;
  status: string;
  reward: number | null;
  val_accuracy: number | null;
  params: number | null;
  graph_json: string;
}

function dbRun(
  dbPath: string,
  runId: number,
): { id: number; name: string; status: string; strategy: string; backend: string | null; budget_trials: number } | undefined {
  return readDatabase(
    dbPath,
    (db) => db.prepare('SELECT id, name, status, strategy, backend, budget_trials FROM runs WHERE id = ?').get(runId) as never,
  );
}

function dbTrials(dbPath: string, runId: number): DbTrial[] {
  return readDatabase(
    dbPath,
    (db) =>
      db
        .prepare('SELECT idx, status, reward, val_accuracy, params, graph_json FROM trials WHERE run_id = ? ORDER BY idx')
        .all(runId) as DbTrial[],
  );
}

function dbSteps(dbPath: string, runId: number): number {
  return readDatabase(
    dbPath,
    (db) => (db.prepare('SELECT COUNT(*) AS n FROM controller_steps WHERE run_id = ?').get(runId) as { n: number }).n,
  );
}

interface MacroGraph {
  kind: 'macro';
  layers: { inputs: number[] }[];
}

/**
 * What the trial view should draw for a macro graph: the image, one node per layer and the
 * classifier; one edge per input link (a layer with no inputs reads the image) and one from each
 * layer that feeds no later layer to the classifier (src/space/graph.ts macroOutputLayers).
 */
function expectedDrawing(graph: MacroGraph): { nodes: number; edges: number } {
  const used = new Set(graph.layers.flatMap((l) => l.inputs));
  const outputs = graph.layers.filter((_, i) => !used.has(i)).length;
  const links = graph.layers.reduce((n, l) => n + Math.max(1, l.inputs.length), 0);
  return { nodes: graph.layers.length + 2, edges: links + outputs };
}

// ---------------------------------------------------------------------------------------
// The webview pages

interface ChartCounts {
  [chart: string]: { label: string; type: string; n: number }[];
}

/** Datasets of every chart the page exposes on window.__nasCharts: label, type and point count. */
async function chartCounts(frame: FrameLocator): Promise<ChartCounts | undefined> {
  return frame.locator('body').evaluate(() => {
    type ChartLike = { config?: { type?: string }; data: { datasets: { label?: string; type?: string; data: unknown[] }[] } };
    const charts = (globalThis as unknown as { __nasCharts?: Record<string, ChartLike | undefined> }).__nasCharts;
    if (!charts) return undefined;
    const out: Record<string, { label: string; type: string; n: number }[]> = {};
    for (const [name, chart] of Object.entries(charts)) {
      if (!chart) continue;
      out[name] = chart.data.datasets.map((d) => ({ label: d.label ?? '', type: d.type ?? chart.config?.type ?? '', n: d.data.length }));
    }
    return out;
  });
}

type XY = { x: number; y: number };

/** The points of one dataset of a chart on window.__nasCharts (the first whose label matches). */
async function datasetPoints(frame: FrameLocator, chart: string, label: RegExp): Promise<XY[]> {
  return frame.locator('body').evaluate(
    (_, arg) => {
      type ChartLike = { data: { datasets: { label?: string; data: { x: number; y: number }[] }[] } };
      const charts = (globalThis as unknown as { __nasCharts?: Record<string, ChartLike | undefined> }).__nasCharts;
      const set = charts?.[arg.chart]?.data.datasets.find((d) => new RegExp(arg.source, arg.flags).test(d.label ?? ''));
      return (set?.data ?? []).map((p) => ({ x: p.x, y: p.y }));
    },
    { chart, source: label.source, flags: label.flags },
  );
}

/**
 * The best-so-far line of rewards in trial order as the dashboard draws it (stepped): the first
 * point, each point where the running maximum rises, and the last point.
 */
function bestSoFarCorners(rewards: XY[]): XY[] {
  const sorted = [...rewards].sort((a, b) => a.x - b.x);
  const out: XY[] = [];
  let best = -Infinity;
  sorted.forEach((p, i) => {
    const rises = p.y > best;
    best = Math.max(best, p.y);
    if (i === 0 || rises || i === sorted.length - 1) out.push({ x: p.x, y: best });
  });
  return out;
}

/** The reward chart's datasets by role: the trials' rewards, the best so far, the EMA baseline. */
function rewardDatasets(counts: ChartCounts): { rewards?: number; best?: number; baseline?: number } {
  const sets = counts.reward ?? [];
  const best = sets.find((d) => /best/i.test(d.label));
  const baseline = sets.find((d) => /baseline|ema/i.test(d.label));
  const rewards =
    sets.find((d) => d !== best && d !== baseline && (d.type === 'scatter' || /reward|trial/i.test(d.label))) ??
    sets.find((d) => d !== best && d !== baseline);
  return { rewards: rewards?.n, best: best?.n, baseline: baseline?.n };
}

/** Waits until the visible webview has a dashboard that finished its first render. */
async function waitForDashboard(page: Page): Promise<FrameLocator> {
  return waitForPanel(page, 'dashboard', () => `console: ${session?.workbench.console.slice(-5).join(' / ')}`);
}

// ---------------------------------------------------------------------------------------
// The session: one workspace with one finished run (made by the CLI before code-server starts)

let session: Session | undefined;
let dbPath = '';
const markers: string[] = [];

function timed<T>(label: string, started: number, value: T): T {
  console.log(`${label}: ${Date.now() - started} ms`);
  return value;
}

const snap = screenshotter('panels');

before(async () => {
  assertSetup();
  if (!process.env.NAS_E2E_PANELS_WITHOUT_WEBVIEW)
    assert.ok(existsSync(join(REPO, 'dist', 'webview')), 'dist/webview is missing: npm run build bundles the panels there');
  // This file's screenshots from an earlier run go; the other e2e files' stay.
  if (existsSync(SCREENSHOTS)) for (const name of readdirSync(SCREENSHOTS)) if (name.includes('-panels-')) rmSync(join(SCREENSHOTS, name));
  const t0 = Date.now();
  session = await openSession({
    trusted: true,
    files: {
      'finished.nas.yaml': tinySearchText({ trials: FINISHED_TRIALS, name: 'finished' }),
      'live.nas.yaml': tinySearchText({ trials: LIVE_BUDGET, name: 'live' }),
    },
    prepareWorkspace: (workspace) => {
      mkdirSync(join(workspace, '.nas-studio'), { recursive: true });
      const started = Date.now();
      execFileSync(
        process.execPath,
        [
          join(REPO, 'dist', 'cli.js'),
          'search',
          join(workspace, 'finished.nas.yaml'),
          '--db',
          join(workspace, '.nas-studio', 'runs.db'),
          '--trials',
          String(FINISHED_TRIALS),
        ],
        { stdio: 'pipe', timeout: 120_000 },
      );
      console.log(`CLI search of ${FINISHED_TRIALS} trials: ${Date.now() - started} ms`);
    },
  });
  markers.push(session.server.marker);
  dbPath = join(session.workspace, '.nas-studio', 'runs.db');
  assert.equal(dbRun(dbPath, 1)?.status, 'done', 'the CLI left one finished run');
  console.log(`session open: ${Date.now() - t0} ms`);
  await showViewContainer(session.page, 'NAS Studio');
});

after(async () => {
  if (session) await session.close().catch(() => undefined);
  const left = leftoverProcesses(ENGINE_PROCESSES, markers);
  if (left.length) console.log(`left over after close: ${JSON.stringify(left)}`);
});

function current(): Session {
  assert.ok(session, 'the session opened');
  return session;
}

async function closeAllEditors(page: Page): Promise<void> {
  await runCommand(page, 'View: Close All Editors');
  await waitFor(async () => (await page.locator('.tabs-container .tab').count()) === 0, 10_000, 'every editor to close');
}

function runRow(page: Page, label: string) {
  return viewPane(page, 'Runs')
    .locator('.monaco-list-row')
    .filter({ has: page.locator('.label-name').filter({ hasText: new RegExp(`^${label}$`) }) })
    .first();
}

async function expandRun(page: Page, label: string): Promise<void> {
  const row = runRow(page, label);
  await row.waitFor({ state: 'visible', timeout: 30_000 });
  if ((await row.getAttribute('aria-expanded')) !== 'true') await row.locator('.monaco-tl-twistie').click();
  await waitFor(async () => (await treeRows(page, 'Runs')).some((r) => r.label === 'trial 3'), 30_000, `trial rows under ${label}`);
}

// ---------------------------------------------------------------------------------------

test('Run dashboard from the Runs tree: the charts hold every trial and controller step of the run', { timeout: 3 * 60_000 }, async () => {
  const { page } = current();
  const row = runRow(page, '#1 finished');
  await row.waitFor({ state: 'visible', timeout: 60_000 });
  await snap(page, 'runs-tree');

  // The inline action on the run row (it shows on hover).
  const t0 = Date.now();
  await row.hover();
  const action = row.locator('.actions .action-label[aria-label^="Open Run Dashboard"]');
  await action.waitFor({ state: 'visible', timeout: 10_000 });
  await action.click();
  const frame = await waitForDashboard(page);
  timed('dashboard: click → first full render', t0, undefined);

  const trials = dbTrials(dbPath, 1);
  const finished = trials.filter((t) => t.status === 'done' && t.reward !== null);
  const steps = dbSteps(dbPath, 1);
  assert.equal(finished.length, FINISHED_TRIALS, 'the database has every trial finished');
  assert.ok(steps > 0, 'a REINFORCE run records controller steps');

  const counts = await chartCounts(frame);
  console.log(`dashboard charts: ${JSON.stringify(counts)}; database: ${finished.length} finished trials, ${steps} controller steps`);
  assert.ok(counts, 'the page exposes window.__nasCharts');
  for (const name of ['reward', 'entropy', 'argmax', 'pareto'])
    assert.ok(counts[name]?.length, `chart ${name} has datasets (${JSON.stringify(counts)})`);
  for (const id of ['chart-reward', 'chart-entropy', 'chart-argmax', 'chart-pareto'])
    assert.equal(await frame.locator(`canvas#${id}`).count(), 1, `canvas #${id}`);

  const reward = rewardDatasets(counts);
  assert.equal(reward.rewards, finished.length, `one reward point per finished trial (${JSON.stringify(counts.reward)})`);
  // The best-so-far line is drawn stepped, so it holds only its corners (first, every rise, last):
  // they must be the running maximum of the database's rewards.
  const best = await datasetPoints(frame, 'reward', /best/i);
  const expectedBest = bestSoFarCorners(finished.map((t) => ({ x: t.idx, y: t.reward as number })));
  assert.deepEqual(best, expectedBest, 'the best-so-far line is the running maximum of the rewards in the database');
  assert.ok(
    reward.best !== undefined && reward.best >= 2 && reward.best <= finished.length,
    `the best-so-far line has 2..${finished.length} corners (${JSON.stringify(counts.reward)})`,
  );
  assert.ok(reward.baseline !== undefined && reward.baseline > 0, `an EMA baseline line (${JSON.stringify(counts.reward)})`);

  const measured = finished.filter((t) => t.val_accuracy !== null && t.params !== null).length;
  const paretoPoints = counts.pareto.find((d) => !/front/i.test(d.label))?.n;
  const front = counts.pareto.find((d) => /front/i.test(d.label))?.n ?? 0;
  assert.equal(paretoPoints, measured, `the Pareto chart shows every measured trial (${JSON.stringify(counts.pareto)})`);
  assert.ok(front >= 1 && front <= finished.length, `the Pareto front has 1..${finished.length} points (${JSON.stringify(counts.pareto)})`);

  for (const name of ['entropy', 'argmax']) {
    for (const d of counts[name])
      assert.equal(
        d.n,
        steps,
        `${name} dataset "${d.label}" has one point per controller step (${steps}): ${JSON.stringify(counts[name])}`,
      );
  }

  // The header: run name, strategy, backend, progress, and the Stop/Resume buttons.
  const text = await frame.locator('body').innerText();
  const run = dbRun(dbPath, 1);
  assert.ok(run);
  for (const expected of [run.name, run.strategy, run.backend ?? 'cpu'])
    assert.ok(text.includes(expected), `the dashboard shows "${expected}" (its text: ${JSON.stringify(text.slice(0, 600))})`);
  assert.match(text, new RegExp(`${FINISHED_TRIALS}\\s*/\\s*${FINISHED_TRIALS}`), 'the header shows the progress');
  assert.ok(await frame.locator('button, vscode-button').filter({ hasText: /Stop/ }).count(), 'a Stop button');
  assert.ok(
    await frame
      .locator('button, vscode-button')
      .filter({ hasText: /Resume/ })
      .count(),
    'a Resume button',
  );
  await snap(page, 'dashboard');
});

test(
  'Trial view from a trial row: the SVG draws one node per layer (plus image and classifier) and one edge per link',
  { timeout: 3 * 60_000 },
  async () => {
    const { page } = current();
    await closeAllEditors(page);
    await expandRun(page, '#1 finished');

    const trial = dbTrials(dbPath, 1).find((t) => t.idx === 3);
    assert.ok(trial);
    const graph = JSON.parse(trial.graph_json) as MacroGraph;
    const expected = expectedDrawing(graph);

    const t0 = Date.now();
    await runRow(page, 'trial 3').click();
    const frame = await waitForPanel(page, 'trial');
    timed('trial view: click → SVG drawn', t0, undefined);
    const drawn = { nodes: await frame.locator('svg .arch-node').count(), edges: await frame.locator('svg .arch-edge').count() };
    console.log(`trial 3 graph ${trial.graph_json}: drawn ${JSON.stringify(drawn)}, expected ${JSON.stringify(expected)}`);
    assert.deepEqual(drawn, expected, `the drawing matches trial 3's graph ${trial.graph_json}`);
    const title = await page.locator('.tabs-container .tab.active').innerText();
    assert.match(title, /Trial 3/, 'the active tab is the trial view');
    await snap(page, 'trial-view');
  },
);

test('A live run: its dashboard grows while the search runs; Stop Search stops it', { timeout: 4 * 60_000 }, async () => {
  const { page } = current();
  await closeAllEditors(page);
  await openFile(page, 'live.nas.yaml');
  await runCommand(page, 'NAS: Start Architecture Search');
  await waitFor(
    async () => (await statusBarTexts(page)).find((t) => new RegExp(`NAS ([1-9]\\d*)/${LIVE_BUDGET} · best`).test(t)),
    90_000,
    async () =>
      `the live search to finish a trial (status bar ${JSON.stringify(await statusBarTexts(page))}; ` +
      `messages ${JSON.stringify(await messages(page))})`,
    200,
  );
  assert.equal(dbRun(dbPath, 2)?.status, 'running');

  const t0 = Date.now();
  await openDashboardFromPalette(page, 2, '#2 live');
  const frame = await waitForDashboard(page);
  timed('live dashboard: pick → first full render', t0, undefined);

  const first = rewardDatasets((await chartCounts(frame)) ?? {}).rewards ?? 0;
  const t1 = Date.now();
  const grown = await waitFor(
    async () => {
      const n = rewardDatasets((await chartCounts(frame)) ?? {}).rewards ?? 0;
      return Date.now() - t1 >= 3000 && n > first ? n : false;
    },
    60_000,
    async () => `the reward chart to grow past ${first} points (it has ${JSON.stringify(await chartCounts(frame))})`,
    500,
  );
  console.log(
    `live dashboard: reward points ${first} → ${grown} in ${Date.now() - t1} ms; the ` +
      `database has ${dbTrials(dbPath, 2).filter((t) => t.status === 'done').length} done`,
  );
  const counts = await chartCounts(frame);
  assert.ok(counts);
  // One read of both datasets (the page is single-threaded: no append lands between them).
  const live = await frame.locator('body').evaluate(() => {
    // No named functions in here: tsx's __name helper does not exist in the page.
    type ChartLike = { data: { datasets: { label?: string; data: { x: number; y: number }[] }[] } };
    const reward = (globalThis as unknown as { __nasCharts: { reward: ChartLike } }).__nasCharts.reward.data.datasets;
    return {
      rewards: (reward.find((d) => /^reward$/i.test(d.label ?? ''))?.data ?? []).map((p) => ({ x: p.x, y: p.y })),
      best: (reward.find((d) => /best/i.test(d.label ?? ''))?.data ?? []).map((p) => ({ x: p.x, y: p.y })),
    };
  });
  assert.deepEqual(live.best, bestSoFarCorners(live.rewards), 'the live best-so-far line follows the appended rewards');
  await snap(page, 'dashboard-live');

  await runCommand(page, 'NAS: Stop Search');
  await waitFor(
    () => dbRun(dbPath, 2)?.status === 'stopped',
    30_000,
    () => `run 2 to stop (${JSON.stringify(dbRun(dbPath, 2))})`,
  );
  // The dashboard's last appends arrive; the chart ends at what the database holds.
  const doneIdx = dbTrials(dbPath, 2)
    .filter((t) => t.status === 'done' && t.reward !== null)
    .map((t) => t.idx);
  const done = doneIdx.length;
  await waitFor(
    async () => rewardDatasets((await chartCounts(frame)) ?? {}).rewards === done,
    15_000,
    async () => {
      const shown = new Set((await datasetPoints(frame, 'reward', /^reward$/i)).map((p) => p.x));
      const missing = JSON.stringify(doneIdx.filter((i) => !shown.has(i)));
      const counts = JSON.stringify(await chartCounts(frame));
      return `the stopped run's chart to hold its ${done} done trials (missing trials ${missing}; ${counts})`;
    },
  );
  await snap(page, 'dashboard-live-stopped');
});

/** "NAS: Open Run Dashboard" from the palette; it asks which run only when there are two or more. */
async function openDashboardFromPalette(page: Page, runId: number, label: string): Promise<void> {
  await runCommand(page, 'NAS: Open Run Dashboard');
  const runs = readDatabase(dbPath, (db) => (db.prepare('SELECT COUNT(*) AS n FROM runs').get() as { n: number }).n);
  assert.ok(runs >= runId);
  if (runs > 1) await pickQuickItem(page, label);
}

for (const [theme, kind] of [
  ['Default Light Modern', 'light'],
  ['Default Dark Modern', 'dark'],
] as const) {
  test(`Dashboard and trial view in ${theme} (screenshots)`, { timeout: 3 * 60_000 }, async () => {
    const { page } = current();
    await closeAllEditors(page);
    await setColorTheme(page, theme);
    const workbenchClass = (await page.locator('.monaco-workbench').getAttribute('class')) ?? '';
    assert.ok(workbenchClass.split(/\s+/).includes(kind === 'light' ? 'vs' : 'vs-dark'), `the workbench is ${kind} (${workbenchClass})`);

    await openDashboardFromPalette(page, 1, '#1 finished');
    const frame = await waitForDashboard(page);
    const webviewKind = await frame.locator('body').evaluate((body) => (body as { className: string }).className);
    assert.match(webviewKind, new RegExp(`vscode-${kind}`), 'the webview knows the theme kind');
    await snap(page, `dashboard-${kind}`);
    // The Pareto chart and the trial table are below the fold.
    await frame
      .locator('#chart-pareto')
      .evaluate((canvas) => (canvas as { scrollIntoView(options: object): void }).scrollIntoView({ block: 'center' }));
    await sleep(300);
    await snap(page, `dashboard-${kind}-lower`);

    await expandRun(page, '#1 finished');
    await runRow(page, 'trial 3').click();
    await waitForPanel(page, 'trial');
    await sleep(300);
    await snap(page, `trial-${kind}`);
  });
}

test('Compare Runs from the palette: two runs, two datasets per chart', { timeout: 3 * 60_000 }, async () => {
  const { page } = current();
  await closeAllEditors(page);
  await runCommand(page, 'NAS: Compare Runs');
  for (const label of ['#1 finished', '#2 live']) {
    const row = page.locator('.quick-input-widget .quick-input-list .monaco-list-row').filter({ hasText: label }).first();
    await row.waitFor({ state: 'visible', timeout: 15_000 });
    if ((await row.getAttribute('aria-checked')) !== 'true') await row.click();
    await waitFor(async () => (await row.getAttribute('aria-checked')) === 'true', 5_000, `${label} checked`);
  }
  await page.keyboard.press('Enter');
  const frame = webviewFrame(page);
  const counts = await waitFor(
    async () => {
      const c = (await rendered(frame, 'nas-compare-rendered')) ? await chartCounts(frame) : undefined;
      return c && Object.keys(c).length > 0 ? c : false;
    },
    60_000,
    async () =>
      `the compare page's charts (its text: ${JSON.stringify(
        await frame
          .locator('body')
          .innerText({ timeout: 1000 })
          .catch(() => '(no webview)'),
      )})`,
    250,
  );
  console.log(`compare charts: ${JSON.stringify(counts)}`);
  assert.ok(Object.keys(counts).length >= 2, `the compare page has its charts (${JSON.stringify(counts)})`);
  for (const [name, sets] of Object.entries(counts)) {
    assert.equal(sets.length, 2, `chart ${name} has one dataset per run (${JSON.stringify(sets)})`);
    assert.ok(
      sets.some((d) => /finished/.test(d.label)) && sets.some((d) => /live/.test(d.label)),
      `chart ${name} names both runs (${JSON.stringify(sets)})`,
    );
    assert.ok(
      sets.every((d) => d.n >= 2),
      `every dataset of ${name} has points (${JSON.stringify(sets)})`,
    );
  }
  const expected = [1, 2].map((id) => dbTrials(dbPath, id).filter((t) => t.status === 'done' && t.reward !== null).length);
  console.log(`compare: done trials per run in the database ${JSON.stringify(expected)}`);
  await snap(page, 'compare');
});

test('A dashboard survives a window reload (its serializer restores it with its charts)', { timeout: 3 * 60_000 }, async () => {
  const { page } = current();
  await closeAllEditors(page);
  await openDashboardFromPalette(page, 1, '#1 finished');
  await waitForDashboard(page);
  await runCommand(page, 'Developer: Reload Window');
  await page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: 60_000 });
  const frame = await waitForDashboard(page);
  const reward = rewardDatasets((await chartCounts(frame)) ?? {});
  assert.equal(reward.rewards, FINISHED_TRIALS, 'the restored dashboard shows every finished trial again');
  await snap(page, 'dashboard-after-reload');
});
