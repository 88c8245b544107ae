// Lifecycle and scale of the extension in a real VS Code (code-server 4.100.3), driven through the UI.
// Needs: bash scripts/e2e-setup.sh (once per machine) and npm run build (dist/extension.js).
// Run: node --import tsx --test --test-concurrency=1 test/e2e/lifecycle.e2e.ts
// Screenshots of every step land in test/e2e/screenshots/ (as lifecycle-*.png).
//
// What "the window closes" does to the extension host here, found out for these tests:
//  - SIGTERM to code-server (its wrapper process alone): the wrapper SIGTERMs its server child,
//    which disposes the server and exits (about a second). The extension host then finds its
//    parent gone (it checks every second) and terminates: it calls every extension's deactivate()
//    and waits for it at most 5 s, then exits. So deactivate runs, with a 5 s budget.
//  - "Developer: Reload Window": the renderer sends the extension host a terminate message; the
//    same terminate path (deactivate, at most 5 s) runs while code-server stays up, and a new
//    extension host starts for the reloaded window.
// Both paths are tested: every engine and trainer process exits and the run is left `stopped`.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Store } from '../../src/engine/store/store.ts';
import { architectureKey, compileSpace, decodeArchitecture } from '../../src/space/graph.ts';
import { loadSearchFile } from '../../src/space/parse.ts';
import {
  assertSetup,
  extensionHostLog,
  isAlive,
  leftoverProcesses,
  messages,
  openFile,
  openSession,
  readDatabase,
  runCommand,
  SCREENSHOTS,
  screenshotter,
  showViewContainer,
  statusBarTexts,
  treeRows,
  viewPane,
  waitFor,
  type Page,
  type Session,
} from './harness.ts';
import { tinySearchText } from '../support/tiny.ts';

const BUDGET = 400; // far more than the test lets run: the search is still going when the window closes
const ENGINE_PROCESSES = 'dist/engine.js|trainer-process.js';

interface RunRow {
  id: number;
  status: string;
  writer_pid: number | null;
  finished_at: string | null;
}

function readDb(dbPath: string): { runs: RunRow[]; trials: Record<string, number> } {
  if (!existsSync(dbPath)) return { runs: [], trials: {} };
  return readDatabase(dbPath, (db) => {
    const runs = db.prepare('SELECT id, status, writer_pid, finished_at FROM runs ORDER BY id').all() as RunRow[];
    const counts = db.prepare('SELECT status, COUNT(*) AS n FROM trials GROUP BY status').all() as { status: string; n: number }[];
    return { runs, trials: Object.fromEntries(counts.map((c) => [c.status, c.n])) };
  });
}

const snap = screenshotter('lifecycle');
const sessions: Session[] = [];
const scratch: string[] = [];

before(() => {
  assertSetup();
  // This file's screenshots from an earlier run go; the other e2e file's stay.
  if (existsSync(SCREENSHOTS))
    for (const name of readdirSync(SCREENSHOTS)) if (name.includes('-lifecycle-')) rmSync(join(SCREENSHOTS, name));
});

after(async () => {
  for (const session of sessions.splice(0)) await session.close().catch(() => undefined);
  for (const dir of scratch.splice(0)) rmSync(dir, { recursive: true, force: true });
});

type ClosePath = 'SIGTERM to code-server' | 'Developer: Reload Window';

for (const closePath of ['SIGTERM to code-server', 'Developer: Reload Window'] as ClosePath[]) {
  test(
    `Closing the window (${closePath}) stops the children cleanly. No orphan process is left behind.`,
    { timeout: 5 * 60_000 },
    async () => {
      const session = await openSession({ trusted: true, files: { 'tiny.nas.yaml': tinySearchText({ trials: BUDGET }) }, keepRoot: true });
      sessions.push(session);
      const { page, server } = session;
      const dbPath = join(session.workspace, '.nas-studio', 'runs.db');
      const ours = () => leftoverProcesses(ENGINE_PROCESSES, [server.marker]);

      await showViewContainer(page, 'NAS Studio');
      await openFile(page, 'tiny.nas.yaml');
      await runCommand(page, 'NAS: Start Architecture Search');
      await waitFor(
        async () => (await statusBarTexts(page)).find((t) => new RegExp(`NAS ([2-9]|\\d\\d+)/${BUDGET} · best`).test(t)),
        90_000,
        async () =>
          `two trials or more in the status bar (it shows ${JSON.stringify(await statusBarTexts(page))}; ` +
          `messages ${JSON.stringify(await messages(page))})`,
        200,
      );
      const runRow = viewPane(page, 'Runs').locator('.monaco-list-row').filter({ hasText: '#1 tiny' }).first();
      await runRow.waitFor({ state: 'visible', timeout: 30_000 });
      if ((await runRow.getAttribute('aria-expanded')) !== 'true') await runRow.locator('.monaco-tl-twistie').click();
      await waitFor(
        async () => (await treeRows(page, 'Runs')).some((r) => /^trial \d+$/.test(r.label)),
        30_000,
        'trial rows under #1 tiny',
      );
      await snap(page, `${closePath === 'SIGTERM to code-server' ? 'sigterm' : 'reload'}-search-running`);

      // Every engine and trainer process of this session (the marker is in their environment).
      const before = readDb(dbPath);
      const writer = before.runs[0]?.writer_pid;
      assert.equal(before.runs[0]?.status, 'running', `the run is running before the window closes (${JSON.stringify(before)})`);
      const processes = ours();
      const engines = processes.filter((p) => p.cmdline.includes('dist/engine.js'));
      const trainers = processes.filter((p) => p.cmdline.includes('trainer-process.js'));
      console.log(
        `${closePath}: engines ${engines.map((p) => p.pid).join(', ')}; trainers ${trainers.map((p) => p.pid).join(', ')}; ` +
          `trials before ${JSON.stringify(before.trials)}`,
      );
      assert.ok(engines.length >= 2, `a search engine and the query engine (${JSON.stringify(processes)})`);
      assert.ok(trainers.length >= 1, `at least one trainer (${JSON.stringify(processes)})`);
      assert.ok(writer && engines.some((p) => p.pid === writer), `the run's writer ${writer} is one of this session's engines`);

      const t0 = Date.now();
      if (closePath === 'SIGTERM to code-server') {
        process.kill(server.pid, 'SIGTERM'); // the wrapper alone, not its group
      } else {
        await runCommand(page, 'Developer: Reload Window');
      }
      const gone = await waitFor(
        () => (processes.every((p) => !isAlive(p.pid)) ? Date.now() - t0 : false),
        15_000,
        () => `every engine and trainer process to exit (alive: ${JSON.stringify(processes.filter((p) => isAlive(p.pid)))})`,
        100,
      );
      console.log(`${closePath}: all ${processes.length} engine/trainer processes gone ${gone} ms after the window closed`);

      const afterClose = await waitFor(
        () => {
          const state = readDb(dbPath);
          return state.runs[0]?.status !== 'running' ? state : false;
        },
        5_000,
        () => `run 1 to leave "running" (${JSON.stringify(readDb(dbPath))})`,
      );
      console.log(`${closePath}: database after: ${JSON.stringify(afterClose)}`);
      assert.equal(afterClose.runs[0].status, 'stopped', `the run is stopped, not interrupted or failed (${JSON.stringify(afterClose)})`);
      assert.equal(afterClose.runs[0].writer_pid, null, 'a stopped run has no writer');
      assert.equal(afterClose.trials.running ?? 0, 0, `no trial is left running (${JSON.stringify(afterClose.trials)})`);

      // The extension host went through its terminate path (which runs deactivate) and did not crash.
      const hostLog = extensionHostLog(session);
      const terminating = hostLog.split('\n').find((line) => line.includes('Extension host terminating'));
      const exiting = hostLog.split('\n').find((line) => /Extension host with pid \d+ exiting/.test(line));
      console.log(`${closePath}: ${terminating ?? '(no terminate line)'} / ${exiting ?? '(no exit line)'}`);
      assert.ok(terminating, `the extension host logged its terminate (deactivate) path:\n${hostLog.slice(-2000)}`);

      if (closePath === 'SIGTERM to code-server') {
        await waitFor(() => !isAlive(server.pid), 10_000, 'code-server to exit after SIGTERM');
      } else {
        // The reloaded window has a new extension host; the old one is gone and nothing of ours is left.
        await page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: 60_000 });
        await page.locator('#workbench\\.parts\\.statusbar').waitFor({ state: 'visible', timeout: 60_000 });
        await showViewContainer(page, 'NAS Studio');
        await waitFor(
          async () => (await treeRows(page, 'Runs')).find((r) => r.label === '#1 tiny' && r.description.startsWith('stopped')),
          30_000,
          async () => `the reloaded window's tree to show run 1 stopped (rows: ${JSON.stringify(await treeRows(page, 'Runs'))})`,
        );
        await snap(page, 'reload-run-stopped');
        const fresh = ours().filter((p) => processes.every((q) => q.pid !== p.pid));
        assert.ok(
          fresh.every((p) => p.cmdline.includes('dist/engine.js')),
          `after the reload only the new query engine may run (${JSON.stringify(fresh)})`,
        );
      }
      assert.deepEqual(
        ours().filter((p) => processes.some((q) => q.pid === p.pid)),
        [],
        'none of the recorded processes is left',
      );
      // Only now: whatever code-server itself left in its group goes.
      sessions.splice(sessions.indexOf(session), 1);
      await session.close();
      rmSync(session.root, { recursive: true, force: true });
    },
  );
}

const TRIALS = 10_000;

/** A database with one finished run of `TRIALS` trials, written with the project's store. */
function writeBigDatabase(dir: string): { dbPath: string; bestIndex: number; bestReward: number } {
  const file = join(dir, 'big.nas.yaml');
  writeFileSync(file, tinySearchText({ trials: TRIALS, name: 'big' }));
  const loaded = loadSearchFile(file);
  assert.ok(loaded.config, `the search file parses (${JSON.stringify(loaded.problems)})`);
  const config = loaded.config;
  const decisions = compileSpace(config.space);
  const dbPath = join(dir, 'big.db');
  const store = new Store(dbPath);
  let bestIndex = -1;
  let bestReward = -1;
  try {
    store.db.transaction(() => {
      const runId = store.createRun({ name: config.name, spaceFile: file, spaceText: loaded.text, config });
      for (let index = 0; index < TRIALS; index++) {
        const architecture = decisions.map((d, j) => (index + j * 7 + Math.floor(index / (j + 2))) % d.options.length);
        const graph = decodeArchitecture(config.space, architecture);
        store.startTrial(runId, index, architecture, architectureKey(graph), graph);
        // Distinct rewards in a shuffled order: the best is somewhere in the middle.
        const reward = ((index * 7919) % TRIALS) / TRIALS;
        if (reward > bestReward) [bestIndex, bestReward] = [index, reward];
        store.finishTrial({
          runId,
          index,
          status: 'done',
          reward,
          measurements: { valAccuracy: reward, testAccuracy: reward, params: 1000 + index, flops: 1e5, seconds: 0.5, curve: [] },
          error: null,
        });
      }
      store.setRunStatus(runId, 'done');
    })();
  } finally {
    store.close();
  }
  return { dbPath, bestIndex, bestReward };
}

/** The rendered rows of the Runs view with the tree's aria attributes (the list is virtual: only visible rows are in the DOM). */
async function ariaRows(page: Page): Promise<{ label: string; level: number; posinset: number; setsize: number }[]> {
  const rows = viewPane(page, 'Runs').locator('.monaco-list-row');
  const n = await rows.count();
  const out = [];
  for (let i = 0; i < n; i++) {
    const row = rows.nth(i);
    out.push({
      label: (
        (await row
          .locator('.label-name')
          .first()
          .textContent()
          .catch(() => '')) ?? ''
      ).trim(),
      level: Number((await row.getAttribute('aria-level')) ?? '0'),
      posinset: Number((await row.getAttribute('aria-posinset')) ?? '0'),
      setsize: Number((await row.getAttribute('aria-setsize')) ?? '0'),
    });
  }
  return out;
}

test('The Runs tree stays responsive with 10,000 trials (children load lazily)', { timeout: 5 * 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nas-e2e-big-'));
  scratch.push(dir);
  const t0 = Date.now();
  const { dbPath, bestIndex, bestReward } = writeBigDatabase(dir);
  console.log(`wrote ${TRIALS} trials in ${Date.now() - t0} ms; best: trial ${bestIndex} (reward ${bestReward})`);

  const session = await openSession({
    trusted: true,
    files: { 'README.md': '# big\n' },
    workspaceSettings: { 'nasStudio.databasePath': dbPath },
  });
  sessions.push(session);
  const { page } = session;
  await showViewContainer(page, 'NAS Studio');
  const runRow = viewPane(page, 'Runs').locator('.monaco-list-row').filter({ hasText: '#1 big' }).first();
  await runRow.waitFor({ state: 'visible', timeout: 60_000 });
  const run = (await treeRows(page, 'Runs')).find((r) => r.label === '#1 big');
  assert.match(
    run?.description ?? '',
    new RegExp(`^done · ${TRIALS}/${TRIALS} · best ${bestReward.toFixed(3)}`),
    `run row: ${JSON.stringify(run)}`,
  );
  await snap(page, 'big-run-collapsed');

  // Expand: the first page of trials shows.
  const clicked = Date.now();
  await runRow.locator('.monaco-tl-twistie').click();
  await viewPane(page, 'Runs')
    .locator('.monaco-list-row[aria-level="2"]')
    .filter({ hasText: /^trial \d+/ })
    .first()
    .waitFor({ state: 'visible', timeout: 30_000 });
  const expandMs = Date.now() - clicked;
  console.log(`expand → first trial rows: ${expandMs} ms`);
  let rows = await ariaRows(page);
  const firstPage = rows.filter((r) => r.level === 2);
  assert.equal(firstPage[0]?.label, 'trial 0', `in index order the first is trial 0 (${JSON.stringify(firstPage.slice(0, 3))})`);
  assert.equal(firstPage[0].setsize, 201, `the run has 200 trial rows and a "more" row (${JSON.stringify(firstPage[0])})`);
  await snap(page, 'big-first-page');

  // The last child is the "Show 200 more of 9800…" row: go there with the keyboard (the list renders
  // only what it shows; the twistie click left the focus on the run row, and a click on a row would toggle it).
  await page.keyboard.press('End');
  const more = viewPane(page, 'Runs')
    .locator('.monaco-list-row[aria-level="2"]')
    .filter({ hasText: /^Show \d+ more of \d+…$/ })
    .first();
  await more.waitFor({ state: 'visible', timeout: 15_000 });
  assert.equal((await more.innerText()).trim(), `Show 200 more of ${TRIALS - 200}…`);
  assert.equal(await more.getAttribute('aria-posinset'), '201');
  const trial199 = (await ariaRows(page)).find((r) => r.level === 2 && r.posinset === 200);
  assert.equal(trial199?.label, 'trial 199', 'the last trial of the first page is trial 199');
  await snap(page, 'big-show-more-row');

  const moreClicked = Date.now();
  await more.click();
  await waitFor(
    async () => (await ariaRows(page)).some((r) => r.level === 2 && r.setsize === 401),
    30_000,
    async () => `400 trial rows and a "more" row (rows: ${JSON.stringify((await ariaRows(page)).slice(0, 4))})`,
    50,
  );
  const moreMs = Date.now() - moreClicked;
  console.log(`show more → 400 trial rows: ${moreMs} ms`);
  await page.keyboard.press('End'); // the focus is still in the tree
  const more2 = viewPane(page, 'Runs')
    .locator('.monaco-list-row[aria-level="2"]')
    .filter({ hasText: /^Show \d+ more of \d+…$/ })
    .first();
  await more2.waitFor({ state: 'visible', timeout: 15_000 });
  assert.equal((await more2.innerText()).trim(), `Show 200 more of ${TRIALS - 400}…`);
  const trial399 = (await ariaRows(page)).find((r) => r.level === 2 && r.posinset === 400);
  assert.equal(trial399?.label, 'trial 399', 'the last trial of the second page is trial 399');
  await snap(page, 'big-second-page');

  // Sort by reward: the best trial of all 10,000 comes first.
  const sortStarted = Date.now();
  await runCommand(page, 'NAS: Sort Trials by Reward');
  await page.keyboard.press('Home'); // the palette gave the focus back to the tree
  const first = await waitFor(
    async () => (await ariaRows(page)).find((r) => r.level === 2 && r.posinset === 1 && r.label === `trial ${bestIndex}`),
    30_000,
    async () => `trial ${bestIndex} first after sorting by reward (rows: ${JSON.stringify((await ariaRows(page)).slice(0, 5))})`,
    50,
  );
  console.log(`sort by reward → best first: ${Date.now() - sortStarted} ms (includes the palette)`);
  rows = await ariaRows(page);
  const sorted = rows.filter((r) => r.level === 2 && r.label.startsWith('trial '));
  assert.equal(first.setsize, 401, 'sorting keeps the 400 shown rows');
  const descriptions = (await treeRows(page, 'Runs')).filter((r) => r.level === 2 && r.label.startsWith('trial '));
  const rewards = descriptions.map((r) => Number(r.description.split(' · ')[0]));
  assert.ok(
    rewards.every((r, i) => i === 0 || r <= rewards[i - 1]),
    `rewards descend: ${JSON.stringify(descriptions.slice(0, 6))}`,
  );
  assert.ok(sorted.length > 1);
  await snap(page, 'big-sorted-by-reward');

  assert.ok(expandMs < 10_000, `expanding a run of ${TRIALS} trials takes ${expandMs} ms (< 10 s)`);
  assert.ok(moreMs < 10_000, `showing 200 more takes ${moreMs} ms (< 10 s)`);
  sessions.splice(sessions.indexOf(session), 1);
  await session.close();
});
