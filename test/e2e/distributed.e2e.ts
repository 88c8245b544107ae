// A search on a remote worker in a real VS Code (code-server 4.100.3): a real redis-server and one
// `nas-studio worker` process are started here; the NAS-Bench-201 example with `runtime.queue` runs from
// the palette like any other search, and the editor says which worker ran each trial: the Runs tree's
// trial tooltip, the dashboard's worker column, and the trial view's header all name the worker's pid.
// Needs: bash scripts/e2e-setup.sh (once per machine), npm run build (dist/extension.js, dist/cli.js,
// dist/webview/) and redis-server (Debian: redis-server); without redis-server the test is skipped.
// Run: node --import tsx --test --test-concurrency=1 test/e2e/distributed.e2e.ts
// Screenshots land in test/e2e/screenshots/ as <nn>-distributed-*.png.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  assertSetup,
  openFile,
  openSession,
  readDatabase,
  REPO,
  runCommand,
  screenshotter,
  showViewContainer,
  treeRows,
  viewPane,
  waitFor,
  waitForPanel,
  type Page,
  type Session,
} from './harness.ts';
import { RedisServer, redisMissing } from '../support/redis.ts';

const CLI = join(REPO, 'dist', 'cli.js');
const BUDGET = 20;
const EXAMPLE = readFileSync(join(REPO, 'examples', 'nasbench201.nas.yaml'), 'utf8');
const snap = screenshotter('distributed');
const missing = redisMissing();

let dir: string | undefined;
let redis: RedisServer | undefined;
let worker: ChildProcess | undefined;
let session: Session | undefined;

/** The example on the queue: its name, a small budget, and the Redis URL (the seed as in the example). */
function searchText(url: string): string {
  const text = EXAMPLE.replace(/^name: .*$/m, 'name: on-workers')
    .replace(/budget: \{ trials: \d+ \}/, `budget: { trials: ${BUDGET} }`)
    .replace(/runtime: \{ seed: 1 \}/, `runtime: { queue: "${url}", seed: 1 }`);
  assert.match(text, /runtime: \{ queue: /, 'the example still ends with runtime: { seed: 1 }');
  return text;
}

before(async () => {
  if (missing) return;
  assertSetup();
  assert.ok(existsSync(CLI), 'dist/cli.js is missing: run `npm run build` first');
  dir = mkdtempSync(join(tmpdir(), 'nas-e2e-queue-'));
  redis = await RedisServer.start(dir);
  // Its own process group, so that whatever it starts dies with it; its output kept for a failure's message.
  const started = spawn(process.execPath, [CLI, 'worker', '--queue', redis.url, '--stall-seconds', '5', '--data-root', dir], {
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: true,
  });
  started.stderr!.on('data', (chunk: Buffer) => appendFileSync(join(dir!, 'worker.log'), chunk));
  worker = started;
  session = await openSession({ trusted: true, files: { 'on-workers.nas.yaml': searchText(redis.url) } });
});

after(async () => {
  await session?.close();
  const running = worker;
  if (running && running.exitCode === null && running.signalCode === null) {
    await new Promise<void>((resolve) => {
      running.once('exit', () => resolve());
      process.kill(-running.pid!, 'SIGKILL');
    });
  }
  await redis?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function workerLog(): string {
  const file = dir && join(dir, 'worker.log');
  return file && existsSync(file) ? readFileSync(file, 'utf8').slice(-2000) : '(no output)';
}

function dbTrials(dbPath: string): { idx: number; status: string; worker: string | null; attempts: number | null }[] {
  if (!existsSync(dbPath)) return [];
  return readDatabase(dbPath, (db) =>
    db.prepare('SELECT idx, status, worker, attempts FROM trials WHERE run_id = 1 ORDER BY idx').all(),
  ) as {
    idx: number;
    status: string;
    worker: string | null;
    attempts: number | null;
  }[];
}

function trialRow(page: Page, label: string) {
  return viewPane(page, 'Runs')
    .locator('.monaco-list-row')
    .filter({ has: page.locator('.label-name').filter({ hasText: new RegExp(`^${label}$`) }) })
    .first();
}

test(
  'a search on a remote worker: the Runs tree, the dashboard and the trial view name the worker that ran each trial',
  { skip: missing, timeout: 5 * 60_000 },
  async () => {
    const page = session!.page;
    const pid = worker!.pid!;
    const dbPath = join(session!.workspace, '.nas-studio', 'runs.db');
    await openFile(page, 'on-workers.nas.yaml');
    await runCommand(page, 'NAS: Start Architecture Search');
    await showViewContainer(page, 'NAS Studio');
    await waitFor(
      async () => (await treeRows(page, 'Runs')).find((row) => row.level === 1 && row.description.startsWith(`done · ${BUDGET}/${BUDGET}`)),
      120_000,
      async () =>
        `the run done with ${BUDGET}/${BUDGET} trials in the Runs tree (rows: ${JSON.stringify(await treeRows(page, 'Runs'))}; ` +
        `trials ${JSON.stringify(dbTrials(dbPath))}; worker: ${workerLog()})`,
    );
    const trials = dbTrials(dbPath);
    assert.equal(trials.length, BUDGET);
    for (const t of trials) assert.match(t.worker ?? '', new RegExp(` pid ${pid}, `), `trial ${t.idx} ran on the worker (${t.worker})`);
    const backend = readDatabase(
      dbPath,
      (db) => (db.prepare('SELECT backend FROM runs WHERE id = 1').get() as { backend: string }).backend,
    );
    assert.equal(backend, 'workers');

    // The Runs tree: a trial's tooltip names its worker.
    const run = viewPane(page, 'Runs').locator('.monaco-list-row').first();
    if ((await run.getAttribute('aria-expanded')) !== 'true') await run.locator('.monaco-tl-twistie').click();
    const row = trialRow(page, 'trial 0');
    await row.waitFor({ state: 'visible', timeout: 30_000 });
    const hover = await waitFor(
      async () => {
        // Away and back, so that a hover that did not show comes again.
        await page.locator('.sidebar .composite.title').first().hover();
        await row.locator('.label-name').hover();
        await page.locator('.monaco-hover-content, .workbench-hover').first().waitFor({ state: 'visible', timeout: 3_000 });
        return (await page.locator('.monaco-hover-content, .workbench-hover').allInnerTexts()).find((text) => /worker:/.test(text));
      },
      30_000,
      'the tooltip of trial 0 in the Runs tree',
    );
    console.log(`Runs tree tooltip of trial 0: ${JSON.stringify(hover)}`);
    // The tooltip writes the name as plain text (its spaces may come as no-break spaces).
    assert.match(hover, new RegExp(`worker:\\s+\\S+\\spid\\s${pid},`), 'the tooltip names the worker by its pid');
    assert.doesNotMatch(hover, /attempts:/, 'a first attempt is not mentioned');
    await snap(page, 'runs-tree-tooltip');
    await page.locator('.sidebar .composite.title').first().hover();
    await page.keyboard.press('Escape');

    // The dashboard: a worker column, each row the worker's name.
    await runCommand(page, 'NAS: Open Run Dashboard');
    const dashboard = await waitForPanel(page, 'dashboard');
    const column = dashboard.locator('#trial-worker-column');
    await column.waitFor({ state: 'visible', timeout: 10_000 });
    const cells = await dashboard.locator('#trial-table td.worker').allInnerTexts();
    assert.ok(cells.length > 0, 'rows with a worker cell');
    for (const cell of cells) assert.match(cell, new RegExp(` pid ${pid}, `), `the worker cell (${cell})`);
    await dashboard.locator('#trial-table').evaluate((table) => (table as { scrollIntoView(): void }).scrollIntoView());
    await snap(page, 'dashboard-worker-column');

    // The trial view: the worker in its header.
    await trialRow(page, 'trial 0').click();
    const view = await waitForPanel(page, 'trial');
    const header = await view.locator('#trial-worker').innerText();
    assert.match(header, new RegExp(`worker \\S+ pid ${pid}, `), `the trial view's header (${header})`);
    await snap(page, 'trial-view-worker');
  },
);
