// The extension in a real VS Code (code-server 4.100.3), driven through the UI as a user would.
// Needs: bash scripts/e2e-setup.sh (once per machine) and npm run build (dist/extension.js).
// Run: node --import tsx --test test/e2e/extension.e2e.ts
// Screenshots of every step land in test/e2e/screenshots/.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  assertSetup,
  clearScreenshots,
  isAlive,
  leftoverProcesses,
  messages,
  openFile,
  openSession,
  outputPanelText,
  pickQuickItem,
  quickItems,
  readDatabase,
  restrictedModeIndicator,
  runCommand,
  screenshot,
  showViewContainer,
  sleep,
  statusBarTexts,
  treeRows,
  viewPane,
  waitFor,
  waitForMessage,
  type Session,
} from './harness.ts';
import { tinySearchText } from '../support/tiny.ts';

const BUDGET = 40;
const DONE_ALL = `done · ${BUDGET}/${BUDGET}`;
const SEARCH_FILE = tinySearchText({ trials: BUDGET });
const ENGINE_PROCESSES = 'dist/engine.js|trainer-process.js';

interface RunRow {
  id: number;
  name: string;
  status: string;
  writer_pid: number | null;
  finished: number;
}

function readRuns(dbPath: string): RunRow[] {
  if (!existsSync(dbPath)) return [];
  return readDatabase(
    dbPath,
    (db) =>
      db
        .prepare(
          `SELECT id, name, status, writer_pid,
           (SELECT COUNT(*) FROM trials t WHERE t.run_id = runs.id AND t.status = 'done') AS finished
         FROM runs ORDER BY id`,
        )
        .all() as RunRow[],
  );
}

const sessions: Session[] = [];
const markers: string[] = [];
const extensionDirs: string[] = [];

async function open(trusted: boolean): Promise<Session> {
  const session = await openSession({ trusted, files: { 'tiny.nas.yaml': SEARCH_FILE } });
  sessions.push(session);
  markers.push(session.server.marker);
  extensionDirs.push(session.extension.extensionDir);
  return session;
}

async function close(session: Session): Promise<void> {
  sessions.splice(sessions.indexOf(session), 1);
  await session.close();
}

function ourEngineProcesses(): { pid: number; cmdline: string }[] {
  return extensionDirs
    .flatMap((dir) => leftoverProcesses(ENGINE_PROCESSES, markers, dir))
    .filter((p, i, all) => all.findIndex((q) => q.pid === p.pid) === i);
}

before(() => {
  assertSetup();
  clearScreenshots();
});

after(async () => {
  for (const session of [...sessions]) await close(session).catch(() => undefined);
});

test('start, stop and resume a search from the palette; the Runs tree and status bar follow it', { timeout: 15 * 60_000 }, async () => {
  const session = await open(true);
  const { page } = session;
  const dbPath = join(session.workspace, '.nas-studio', 'runs.db');
  assert.equal(await restrictedModeIndicator(page).count(), 0, 'the trusted workspace is not in Restricted Mode');
  await screenshot(page, 'trusted-workbench');

  await showViewContainer(page, 'NAS Studio');
  await viewPane(page, 'Runs').waitFor({ state: 'visible', timeout: 30_000 });
  await screenshot(page, 'runs-view-empty');

  await openFile(page, 'tiny.nas.yaml');
  await screenshot(page, 'search-file-open');

  await runCommand(page, 'NAS: Start Architecture Search');
  // The tree lists the run; expanding it shows its trials.
  const runRow = viewPane(page, 'Runs').locator('.monaco-list-row').filter({ hasText: '#1 tiny' }).first();
  await runRow.waitFor({ state: 'visible', timeout: 60_000 });
  const progress = await waitFor(
    async () => (await statusBarTexts(page)).find((t) => new RegExp(`NAS \\d+/${BUDGET} · best`).test(t)),
    60_000,
    async () =>
      `the status bar to show "NAS <n>/${BUDGET} · best …" (it shows ${JSON.stringify(await statusBarTexts(page))}; ` +
      `messages ${JSON.stringify(await messages(page))})`,
    200,
  );
  if ((await runRow.getAttribute('aria-expanded')) !== 'true') await runRow.locator('.monaco-tl-twistie').click();
  const rows = await waitFor(
    async () => {
      const all = await treeRows(page, 'Runs');
      return all.some((r) => /^trial \d+$/.test(r.label)) ? all : undefined;
    },
    60_000,
    async () => `trial rows under #1 tiny (rows: ${JSON.stringify(await treeRows(page, 'Runs'))})`,
    200,
  );
  await screenshot(page, 'search-running');
  const run = rows.find((r) => r.label === '#1 tiny');
  assert.ok(run, `a run row "#1 tiny" (rows: ${JSON.stringify(rows)})`);
  assert.match(run.description, new RegExp(`^running · \\d+/${BUDGET} · best`), `run description: ${run.description}`);
  assert.match(progress, new RegExp(`NAS \\d+/${BUDGET} · best`));

  // The engine child claimed the run in SQLite.
  const claimed = await waitFor(
    () => readRuns(dbPath).find((r) => r.id === 1 && r.status === 'running' && r.writer_pid !== null),
    30_000,
    'run 1 to be running with a writer_pid',
  );
  const pid = claimed.writer_pid as number;
  assert.ok(isAlive(pid), `the writer ${pid} is alive`);
  assert.ok(
    ourEngineProcesses().some((p) => p.pid === pid && p.cmdline.includes('dist/engine.js')),
    `writer ${pid} is the engine child of this session (${JSON.stringify(ourEngineProcesses())})`,
  );
  assert.ok(claimed.finished < BUDGET, `the search is still running when it is stopped (${claimed.finished} finished)`);

  await runCommand(page, 'NAS: Stop Search');
  if ((await quickItems(page)).length > 0) await pickQuickItem(page, '#1 tiny');
  await waitFor(() => !isAlive(pid), 30_000, `the engine child ${pid} to exit after Stop`);
  assert.throws(() => process.kill(pid, 0), `process ${pid} is gone`);
  const stopped = await waitFor(
    () => readRuns(dbPath).find((r) => r.id === 1 && r.status === 'stopped'),
    15_000,
    async () => `run 1 to be stopped (runs: ${JSON.stringify(readRuns(dbPath))})`,
  );
  assert.equal(stopped.writer_pid, null, 'a stopped run has no writer');
  assert.ok(stopped.finished < BUDGET, `stopped before the budget (${stopped.finished}/${BUDGET})`);
  await waitFor(
    async () => (await treeRows(page, 'Runs')).find((r) => r.label === '#1 tiny' && r.description.startsWith('stopped')),
    15_000,
    async () => `the tree to show run 1 stopped (rows: ${JSON.stringify(await treeRows(page, 'Runs'))})`,
  );
  await screenshot(page, 'search-stopped');

  await runCommand(page, 'NAS: Resume Search');
  await sleep(500);
  if ((await quickItems(page)).length > 0) {
    await screenshot(page, 'resume-quick-pick');
    await pickQuickItem(page, '#1 tiny');
  }
  const resumed = await waitFor(
    () => readRuns(dbPath).find((r) => r.id === 1 && r.status === 'running' && r.writer_pid !== null),
    30_000,
    async () => `run 1 to run again (runs: ${JSON.stringify(readRuns(dbPath))}; messages ${JSON.stringify(await messages(page))})`,
  );
  assert.notEqual(resumed.writer_pid, pid, 'the resumed run has a new writer');
  await screenshot(page, 'search-resumed');
  const done = await waitFor(
    () => readRuns(dbPath).find((r) => r.id === 1 && r.status === 'done'),
    8 * 60_000,
    async () => `run 1 to be done (runs: ${JSON.stringify(readRuns(dbPath))}; messages ${JSON.stringify(await messages(page))})`,
    1000,
  );
  assert.equal(done.finished, BUDGET, `${BUDGET} finished trials`);
  assert.equal(done.writer_pid, null);
  assert.equal(readRuns(dbPath).length, 1, 'resuming made no new run');
  await waitFor(() => !isAlive(resumed.writer_pid as number), 30_000, 'the resumed engine child to exit when the run is done');
  await waitFor(
    async () => (await treeRows(page, 'Runs')).find((r) => r.label === '#1 tiny' && r.description.startsWith(DONE_ALL)),
    30_000,
    async () => `the tree to show run 1 done (rows: ${JSON.stringify(await treeRows(page, 'Runs'))})`,
  );
  await screenshot(page, 'search-done');
  await close(session);
});

test(
  'NAS: Check Backends lists every backend in the Output panel, usable or not, and which one auto picks',
  { timeout: 3 * 60_000 },
  async () => {
    const session = await open(true);
    const { page } = session;
    await runCommand(page, 'NAS: Check Backends');
    // Room for the whole report: the Output panel draws only the lines in view.
    await runCommand(page, 'View: Toggle Maximized Panel');
    const report = await waitFor(
      async () => {
        const text = await outputPanelText(page);
        return /^auto picks: \S+/m.test(text) ? text : undefined;
      },
      60_000,
      async () =>
        `"auto picks" in the Output panel (it shows ${JSON.stringify(await outputPanelText(page))}; ` +
        `messages ${JSON.stringify(await messages(page))})`,
      250,
    );
    await screenshot(page, 'check-backends');
    for (const name of ['tensorflow-gpu', 'webgpu', 'tensorflow', 'wasm', 'cpu'])
      assert.match(report, new RegExp(`^${name} +(usable|not usable) +\\S`, 'm'), `a line for ${name} in ${JSON.stringify(report)}`);
    assert.match(report, /^wasm +usable +\.wasm from dist/m);
    assert.match(report, /^cpu +usable +always there$/m);
    const picked = /^auto picks: (\S+)$/m.exec(report)?.[1];
    assert.match(report, new RegExp(`^${picked} +usable `, 'm'), `auto picks ${picked}, a usable one`);
    await close(session);
  },
);

test('in Restricted Mode Start, Resume and Check Backends explain why and start nothing', { timeout: 5 * 60_000 }, async () => {
  const session = await open(false);
  const { page } = session;
  const dbPath = join(session.workspace, '.nas-studio', 'runs.db');
  assert.equal(await restrictedModeIndicator(page).count(), 1, 'the status bar shows Restricted Mode');
  await openFile(page, 'tiny.nas.yaml');
  await screenshot(page, 'untrusted-workbench');

  await runCommand(page, 'NAS: Start Architecture Search');
  const message = await waitForMessage(page, /Restricted Mode/);
  assert.match(message, /starts no .*process/i);
  await screenshot(page, 'untrusted-start-message');

  await runCommand(page, 'Notifications: Clear All Notifications');
  await waitFor(async () => (await messages(page)).length === 0, 10_000, 'the notifications to clear');
  await runCommand(page, 'NAS: Resume Search');
  await waitForMessage(page, /Restricted Mode/, 15_000);
  await runCommand(page, 'Notifications: Clear All Notifications');
  await waitFor(async () => (await messages(page)).length === 0, 10_000, 'the notifications to clear');
  await runCommand(page, 'NAS: Check Backends');
  await waitForMessage(page, /Restricted Mode/, 15_000);

  await sleep(3000); // time enough for a search that should not exist to create its database
  assert.equal(existsSync(dbPath), false, 'no database was created');
  assert.deepEqual(readRuns(dbPath), []);
  assert.deepEqual(
    ourEngineProcesses().filter((p) => p.cmdline.includes(session.extension.extensionDir)),
    [],
    'no engine process in Restricted Mode',
  );
  await showViewContainer(page, 'NAS Studio');
  await screenshot(page, 'untrusted-runs-view');
  await close(session);
});

test('no engine or trainer process is left once code-server stopped', async () => {
  for (const session of [...sessions]) await close(session);
  const left = await waitFor(
    () => {
      const found = ourEngineProcesses();
      return found.length === 0 ? found : false;
    },
    15_000,
    async () => `no engine/trainer process of these sessions (left: ${JSON.stringify(ourEngineProcesses())})`,
  ).catch((error: Error) => error);
  assert.ok(Array.isArray(left), left instanceof Error ? left.message : '');
});
