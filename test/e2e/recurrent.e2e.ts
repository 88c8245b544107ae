// A recurrent-cell search in a real VS Code (code-server 4.100.3): a tiny character language model (2 nodes,
// hidden 8, one epoch, 2 trials) on a few lines of verse; its trials show their perplexity in the Runs tree,
// the trial view draws the cell (x_t and h_{t-1} into node1, each node's activation, the leaves' mean into
// h_t) and samples 200 characters from the trial's kept weights; Retrain… on a trial retrains it with the
// final recipe, shown with its test perplexity in the tree and the open dashboard.
// Needs: bash scripts/e2e-setup.sh (once per machine) and npm run build (dist/extension.js, dist/webview/).
// Run: node --import tsx --test --test-concurrency=1 test/e2e/recurrent.e2e.ts
// Screenshots land in test/e2e/screenshots/ as <nn>-recurrent-*.png.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { RecurrentGraph } from '../../src/space/graph.ts';
import { TINY_CORPUS, tinyRecurrentSearchText } from '../support/tiny.ts';
import {
  assertSetup,
  openFile,
  openSession,
  runCommand,
  runsTreeContextMenu,
  screenshot,
  showViewContainer,
  treeRows,
  viewPane,
  waitFor,
  waitForMessage,
  waitForPanel,
  webviewFrame,
  type Page,
  type Session,
} from './harness.ts';

const TRIALS = 2;

let session: Session;
let page: Page;

before(async () => {
  assertSetup();
  session = await openSession({
    trusted: true,
    files: { 'tiny-recurrent.nas.yaml': tinyRecurrentSearchText(TRIALS), 'corpus.txt': TINY_CORPUS },
  });
  page = session.page;
});

after(async () => {
  await session?.close();
});

function storedGraph(dbPath: string, index: number): RecurrentGraph {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    const row = db.prepare('SELECT graph_json FROM trials WHERE run_id = 1 AND idx = ?').get(index) as { graph_json: string };
    return JSON.parse(row.graph_json) as RecurrentGraph;
  } finally {
    db.close();
  }
}

test(
  'a recurrent search: perplexity in the Runs tree, the cell drawn in the trial view, and text sampled from the trial',
  { timeout: 5 * 60_000 },
  async () => {
    await openFile(page, 'tiny-recurrent.nas.yaml');
    await runCommand(page, 'NAS: Start Architecture Search');
    await showViewContainer(page, 'NAS Studio');
    await waitFor(
      async () => (await treeRows(page, 'Runs')).find((row) => row.level === 1 && row.description.startsWith(`done · ${TRIALS}/${TRIALS}`)),
      180_000,
      async () => `the run done in the Runs tree (rows: ${JSON.stringify(await treeRows(page, 'Runs'))})`,
    );
    const run = viewPane(page, 'Runs').locator('.monaco-list-row').first();
    if ((await run.getAttribute('aria-expanded')) !== 'true') await run.locator('.monaco-tl-twistie').click();
    const trialRows = await waitFor(
      async () => {
        const rows = (await treeRows(page, 'Runs')).filter((row) => row.level === 2);
        return rows.length === TRIALS ? rows : undefined;
      },
      30_000,
      'the trials under the run',
    );
    for (const row of trialRows) assert.match(row.description, /· ppl \d+\.\d\d/, `${row.label}: ${row.description}`);

    await viewPane(page, 'Runs')
      .locator('.monaco-list-row')
      .filter({ has: page.locator('.label-name').filter({ hasText: /^trial 0$/ }) })
      .first()
      .click();
    const frame = webviewFrame(page);
    const graph = storedGraph(join(session.workspace, '.nas-studio', 'runs.db'), 0);
    // x_t, h_{t-1}, the nodes, the mean and h_t.
    const nodes = graph.nodes.length + 4;
    await waitFor(async () => (await frame.locator('svg .arch-node').count()) === nodes, 60_000, 'the trial view to draw the cell').catch(
      async (error: unknown) => {
        await screenshot(page, 'recurrent-not-drawn');
        throw error;
      },
    );
    const labels = await frame.locator('svg .arch-node text').allTextContents();
    assert.deepEqual(labels, ['x_t', 'h_{t-1}', ...graph.nodes.map((node, k) => `node${k + 1}: ${node.activation}`), 'mean', 'h_t']);
    // node1 reads x_t and h_{t-1}, each later node one input; every leaf feeds the mean, the mean h_t.
    const leaves = graph.nodes.filter((_, k) => !graph.nodes.some((node) => node.input === k)).length;
    assert.equal(await frame.locator('svg .arch-edge').count(), 2 + (graph.nodes.length - 1) + leaves + 1);
    await screenshot(page, 'recurrent-trial-cell');
    const details = await frame.locator('#trial-details').innerText();
    assert.match(details, /validation perplexity\s+\d+\.\d\d/);
    assert.match(details, /test perplexity\s+\d+\.\d\d/);

    assert.equal(await frame.locator('#sample-prompt').evaluate((input) => (input as { value: string }).value), 'ROMEO:');
    assert.equal(await frame.locator('#sample-temperature').evaluate((input) => (input as { value: string }).value), '0.8');
    await frame.locator('#sample-button').click();
    await waitFor(async () => (await frame.locator('#sample-continuation').count()) === 1, 60_000, 'the sampled text').catch(
      async (error: unknown) => {
        await screenshot(page, 'recurrent-no-sample');
        throw error;
      },
    );
    const continuation = await frame.locator('#sample-continuation').textContent();
    assert.equal([...(continuation ?? '')].length, 200, JSON.stringify(continuation));
    assert.match(await frame.locator('#sample-output').innerText(), /^ROMEO:/);
    await frame.locator('#sample-card').evaluate((card) => (card as { scrollIntoView(): void }).scrollIntoView());
    await screenshot(page, 'recurrent-trial-sample');

    // A character the corpus never holds: the panel says so instead of sampling.
    await frame.locator('#sample-prompt').fill('ROMEO: ✓');
    await frame.locator('#sample-button').click();
    await waitFor(async () => await frame.locator('#sample-error').isVisible(), 60_000, 'the sample error');
    assert.match(await frame.locator('#sample-error').innerText(), /the character "✓" \(U\+2713\) is not in the vocabulary/);

    // The dashboard's table: validation and test perplexity beside the reward.
    await runCommand(page, 'NAS: Open Run Dashboard');
    const dashboard = await waitForPanel(page, 'dashboard');
    const header = await dashboard.locator('#trial-table thead').innerText();
    assert.match(header, /reward\s+val ppl\s+test ppl\s+val next-token acc/);
    const cells = await dashboard.locator('#trial-table tbody tr[data-index]').allInnerTexts();
    assert.equal(cells.length, TRIALS);
    for (const row of cells) assert.match(row, /\d\.\d{4}\s+\d+\.\d\d\s+\d+\.\d\d\s+\d\.\d{4}/, row);
    await dashboard.locator('#trial-table').evaluate((table) => (table as { scrollIntoView(): void }).scrollIntoView());
    await screenshot(page, 'recurrent-dashboard');

    // Retrain… on trial 0: the final recipe (twice the search's epoch, proposed) on the training and validation
    // text; the new trial shows its test perplexity, and its message offers no model export (its weights are for sampling).
    await runsTreeContextMenu(page, 'trial 0', 'Retrain…');
    const epochs = page.locator('.quick-input-widget input.input');
    await epochs.waitFor({ state: 'visible', timeout: 15_000 });
    assert.equal(await epochs.evaluate((input) => (input as { value: string }).value), '2');
    await page.keyboard.press('Enter');
    await waitForMessage(page, new RegExp(`NAS: trial ${TRIALS} retrains trial 0: test perplexity \\d+\\.\\d\\d`), 180_000);
    assert.equal(await page.locator('.notifications-toasts .monaco-button').filter({ hasText: 'Export Model…' }).count(), 0);
    const retrained = await waitFor(
      async () => (await treeRows(page, 'Runs')).find((row) => row.label === `trial ${TRIALS} · retrained from #0`),
      30_000,
      async () => `the retrained trial in the Runs tree (rows: ${JSON.stringify(await treeRows(page, 'Runs'))})`,
    );
    assert.match(retrained.description, /^test ppl \d+\.\d\d$/);
    // The open dashboard takes it: retrained from #0, no reward, no validation figures, its test perplexity.
    const retrainedCells = dashboard.locator(`#trial-table tbody tr[data-index="${TRIALS}"]`);
    await waitFor(async () => (await retrainedCells.count()) === 1, 30_000, 'the retrained trial in the dashboard');
    assert.match(await retrainedCells.innerText(), /#0\s+–\s+–\s+\d+\.\d\d\s+–\s+\d\.\d{4}/);
    await screenshot(page, 'recurrent-retrained');
  },
);
