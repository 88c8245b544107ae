// The Controller Insight panel in a real VS Code (code-server 4.100.3): a NAS-Bench-201 REINFORCE
// run with a memory buffer (table lookups: seconds), opened from the run's context menu in the Runs
// tree; the panel shows the per-decision charts, the hidden-state heatmap and Table 1.
// Needs: bash scripts/e2e-setup.sh (once per machine) and npm run build (dist/extension.js, dist/webview/).
// Run: node --import tsx --test --test-concurrency=1 test/e2e/insight.e2e.ts
// Screenshots land in test/e2e/screenshots/ as <nn>-insight-*.png.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  assertSetup,
  openFile,
  openSession,
  pickQuickItem,
  runCommand,
  screenshot,
  showViewContainer,
  sleep,
  treeRows,
  viewPane,
  waitFor,
  webviewFrame,
  type Page,
  type Session,
} from './harness.ts';

const BUDGET = 60;
const DONE_ALL = `done · ${BUDGET}/${BUDGET}`;
const SEARCH = `name: insight
space: { kind: nasbench201 }
evaluation: { kind: tabular, dataset: cifar10 }
strategy:
  kind: reinforce
  controller: { hidden: 32, batch_size: 5, learning_rate: 0.02, memory_buffer: { size: 30, add_per_step: 5, replace: 2, batch_size: 10 } }
budget: { trials: ${BUDGET} }
runtime: { seed: 1 }
`;

let session: Session;
let page: Page;

before(async () => {
  assertSetup();
  session = await openSession({ trusted: true, files: { 'insight.nas.yaml': SEARCH } });
  page = session.page;
});

after(async () => {
  await session?.close();
});

test(
  'Controller Insight opens from a REINFORCE run in the Runs tree and shows its charts, heatmap and Table 1',
  { timeout: 4 * 60_000 },
  async () => {
    await openFile(page, 'insight.nas.yaml');
    await runCommand(page, 'NAS: Start Architecture Search');
    await showViewContainer(page, 'NAS Studio');
    await waitFor(
      async () => (await treeRows(page, 'Runs')).find((row) => row.level === 1 && row.description.startsWith(DONE_ALL)),
      90_000,
      async () => `the run done in the Runs tree (rows: ${JSON.stringify(await treeRows(page, 'Runs'))})`,
    );
    const run = viewPane(page, 'Runs').locator('.monaco-list-row').first();
    await run.click({ button: 'right' });
    const item = page.locator('.context-view .action-label').filter({ hasText: /^Controller Insight$/ });
    await item.first().waitFor({ state: 'visible', timeout: 15_000 });
    // The workbench's menus act on the highlighted item; hovering highlights it.
    await item.first().hover();
    await page.keyboard.press('Enter');

    const frame = webviewFrame(page);
    await waitFor(async () => (await frame.locator('#spearman-table').count()) === 1, 90_000, 'the insight panel to render Table 1').catch(
      async (error: unknown) => {
        await screenshot(page, 'insight-not-rendered');
        throw error;
      },
    );
    const rows = await frame.locator('#spearman-table tbody tr').allInnerTexts();
    assert.equal(rows.length, 6, rows.join('\n'));
    assert.match(
      rows[0],
      /^Random \(fresh init\)\s+-?\d\.\d{3}\s+-?\d\.\d{3}\s+-?\d\.\d{3}\s+-?\d\.\d{3}\s+4950\s+\d+\s+-0\.090\s+-0\.130\s+-0\.064\s+0\.004/,
    );
    assert.match(rows[1], /^Unsupervised \(trained\)\s+absent: this run trained with a memory buffer\s+-0\.315/);
    assert.match(rows[2], /^Supervised \(memory buffer\)\s+-?\d\.\d{3}/);
    assert.match(rows[3], /^Recorded during the search/);
    assert.match(rows[4], /^Random \(fresh init\), distinct only\s+-?\d\.\d{3}/);
    assert.match(rows[5], /^Supervised \(memory buffer\), distinct only\s+-?\d\.\d{3}/);
    const text = await frame.locator('body').innerText();
    assert.match(text, /graph edit distance \(exact\)/);
    assert.match(text, /60 update|12 update/);

    const heatmap = frame.locator('#insight-heatmap');
    assert.equal(await heatmap.getAttribute('data-rows'), '100');
    assert.equal(await heatmap.getAttribute('data-units'), '32');
    const bars = await frame.locator('body').evaluate(() => {
      const charts = (
        globalThis as unknown as { __nasCharts: Record<string, { data: { labels: string[]; datasets: { data: number[] }[] } }> }
      ).__nasCharts;
      return Object.fromEntries(
        Object.entries(charts).map(([name, chart]) => [
          name,
          { labels: chart.data.labels.length, series: chart.data.datasets.map((d) => d.data.length) },
        ]),
      );
    });
    assert.deepEqual(bars, {
      argmax: { labels: 6, series: [6, 6] },
      entropy: { labels: 6, series: [6, 6] },
      variance: { labels: 32, series: [32] },
    });
    await screenshot(page, 'insight-panel');
    await frame.locator('#spearman-table').evaluate((table) => (table as { scrollIntoView(): void }).scrollIntoView());
    await screenshot(page, 'insight-table');

    // From the palette too: with one reinforce run it opens without asking.
    await runCommand(page, 'NAS: Controller Insight');
    await waitFor(
      async () => (await frame.locator('#spearman-table').count()) === 1,
      30_000,
      'the insight panel revealed from the palette',
    );
  },
);

test('the insight panel follows a switch to a dark theme: its bars take the new chart colours', { timeout: 60_000 }, async () => {
  const frame = webviewFrame(page);
  const trainedColour = () =>
    frame.locator('body').evaluate(() => {
      const charts = (globalThis as unknown as { __nasCharts: Record<string, { data: { datasets: { backgroundColor: string }[] } }> })
        .__nasCharts;
      return charts.argmax.data.datasets[0].backgroundColor;
    });
  const before = await trainedColour();
  await runCommand(page, 'Preferences: Color Theme');
  await page.locator('.quick-input-widget input.input').fill('Default Dark Modern');
  await pickQuickItem(page, 'Default Dark Modern');
  await page.locator('.quick-input-widget').waitFor({ state: 'hidden', timeout: 10_000 });
  await sleep(1000); // the webview gets the new theme's variables and redraws
  assert.match(await frame.locator('body').evaluate((body) => (body as { className: string }).className), /vscode-dark/);
  const chartBlue = await frame.locator('body').evaluate((body) => {
    const page = globalThis as unknown as { getComputedStyle(element: unknown): { getPropertyValue(name: string): string } };
    return page.getComputedStyle(body).getPropertyValue('--vscode-charts-blue').trim();
  });
  assert.equal(await trainedColour(), chartBlue);
  assert.notEqual(await trainedColour(), before, 'light and dark modern themes have different chart blues');
  await screenshot(page, 'insight-dark');
});
