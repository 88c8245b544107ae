// Render benchmark of the run dashboard in a real browser (Debian's Chromium via playwright-core from
// the e2e cache, loaded by test/e2e/harness.ts). The dashboard bundle is served on 127.0.0.1 under
// the same kind of CSP as the webview, with a stub acquireVsCodeApi; a `dashboard` message with a
// synthetic finished run is posted, and the time from postMessage to the dashboard's
// `nas-dashboard-rendered` performance mark is measured, 5 times each in a fresh page.
//
//   node --import tsx bench/dashboard-render.ts [--runs 5]
import { build } from 'esbuild';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { ControllerStepRecord, RunRecord } from '../src/protocol/engine.ts';
import { toStepPoint, type DashboardData, type TrialPoint } from '../src/protocol/webview.ts';
import { launchBrowser, type Browser, type Page } from '../test/e2e/harness.ts';

const REPO = resolve(__dirname, '..');
const TARGET_MS = 300;
const RUNS = Number(process.argv[process.argv.indexOf('--runs') + 1]) || 5;
const NONCE = 'benchnonce0123456789';

/** What the bench needs of a page beyond the harness's Page type. */
interface BenchPage extends Page {
  setViewportSize(size: { width: number; height: number }): Promise<void>;
}

/**
 * The page's globals as the in-page functions below use them (this file is type-checked with the
 * Node libraries, without the DOM's).
 */
interface PageGlobals {
  __posted: { type: string }[];
  __benchData: unknown;
  __nasCharts?: Record<string, { data: { datasets: { data: unknown[] }[] } }>;
  postMessage(message: unknown, origin: string): void;
  document: { querySelectorAll(selector: string): { length: number } };
}

/** A small deterministic generator, so every run of the bench sees the same data. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A finished REINFORCE run: `trials` trials, one controller step every 2 trials, 20 decisions. */
export function syntheticRun(trials: number, decisionCount = 20): DashboardData {
  const random = mulberry32(trials);
  const createdAt = '2025-01-01T00:00:00.000Z';
  const decisions = Array.from(
    { length: decisionCount },
    (_, d) => `layer${Math.floor(d / 4)}.${['filter_height', 'filter_width', 'filters', 'stride'][d % 4]}`,
  );
  const options = decisions.map((_, d) => 2 + (d % 3));
  const points: TrialPoint[] = [];
  let clock = 0;
  let best = -Infinity;
  for (let index = 0; index < trials; index++) {
    const seconds = 2 + random() * 20;
    clock += seconds * 1000;
    const failed = random() < 0.03;
    const progress = index / trials;
    const valAccuracy = failed ? null : Math.min(0.99, 0.4 + 0.45 * progress + (random() - 0.5) * 0.3);
    const reward = valAccuracy === null ? null : valAccuracy ** 3;
    if (reward !== null) best = Math.max(best, reward);
    points.push({
      index,
      status: failed ? 'failed' : 'done',
      reward,
      valAccuracy,
      params: failed ? null : Math.round(10_000 + random() * 2_000_000),
      seconds: failed ? null : seconds,
      finishedMs: clock,
      key: `k${index}`,
      epochsTrained: failed ? 0 : 3,
    });
  }
  const steps: ControllerStepRecord[] = [];
  for (let step = 1; step <= Math.floor(trials / 2); step++) {
    const sharpness = 1 + (step / (trials / 2)) * 6;
    const probabilities = options.map((count) => {
      const raw = Array.from({ length: count }, (_, i) => Math.exp((i === 0 ? sharpness : 1) * random()));
      const sum = raw.reduce((a, b) => a + b, 0);
      return raw.map((p) => p / sum);
    });
    const entropy = probabilities.reduce((total, probs) => total - probs.reduce((h, p) => h + (p > 0 ? p * Math.log(p) : 0), 0), 0);
    steps.push({
      runId: 1,
      step,
      loss: random(),
      meanReward: 0.3 + 0.4 * (step / (trials / 2)),
      baseline: 0.3 + 0.38 * (step / (trials / 2)),
      entropy,
      advantage: random() * 0.1 - 0.05,
      probabilities,
    });
  }
  const run: RunRecord = {
    id: 1,
    name: `bench-${trials}`,
    spaceFile: 'bench.nas.yaml',
    strategy: 'reinforce',
    spaceKind: 'macro',
    backend: 'cpu',
    seed: 1,
    status: 'done',
    budgetTrials: trials,
    oneShot: false,
    trialsDone: trials,
    bestReward: best,
    createdAt,
    finishedAt: new Date(Date.parse(createdAt) + clock).toISOString(),
    error: null,
  };
  // As the 'dashboard' query (src/engine/child.ts) sends them.
  return { run, decisions, trials: points, steps: steps.map(toStepPoint), notes: [] };
}

function page(): string {
  const csp = [
    `default-src 'none'`,
    `img-src 'self' data:`,
    `style-src 'self' 'unsafe-inline'`,
    `font-src 'self'`,
    `script-src 'nonce-${NONCE}'`,
  ].join('; ');
  return (
    `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/panels.css">
<style>
/* A few of the variables VS Code's Dark Modern theme sets on a webview. */
html { --vscode-font-family: system-ui, sans-serif; --vscode-font-size: 13px; ` +
    `--vscode-editor-foreground: #cccccc; --vscode-editor-background: #1f1f1f;
  --vscode-descriptionForeground: #9d9d9d; --vscode-panel-border: #2b2b2b; --vscode-charts-lines: rgba(204, 204, 204, 0.5);
  --vscode-charts-blue: #3794ff; --vscode-charts-red: #f14c4c; --vscode-charts-green: #89d185; --vscode-charts-yellow: #cca700;
  --vscode-charts-orange: #d18616; --vscode-charts-purple: #b180d7; --vscode-progressBar-background: #0078d4;
  --vscode-badge-background: #616161; --vscode-badge-foreground: ` +
    `#f8f8f8; --vscode-list-hoverBackground: #2a2d2e; --vscode-focusBorder: #0078d4; }
</style>
</head><body class="vscode-dark">
<div id="app"></div>
<script nonce="${NONCE}">
window.__posted = [];
window.acquireVsCodeApi = () => ({ postMessage: (m) => window.__posted.push(m), getState: () => undefined, setState: () => {} });
</script>
<script nonce="${NONCE}" src="/dashboard.js"></script>
</body></html>`
  );
}

async function serve(folder: string): Promise<{ server: Server; url: string }> {
  const files: Record<string, [string, string]> = {
    '/': ['text/html', page()],
    '/dashboard.js': ['text/javascript', readFileSync(join(folder, 'dashboard.js'), 'utf8')],
    '/panels.css': ['text/css', readFileSync(join(folder, 'panels.css'), 'utf8')],
  };
  const server = createServer((request, response) => {
    const file = files[(request.url ?? '/').split('?')[0]];
    if (!file) {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { 'content-type': `${file[0]}; charset=utf-8` }).end(file[1]);
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('no port');
  return { server, url: `http://127.0.0.1:${address.port}/` };
}

/** One measurement: a fresh page, wait for `ready`, then postMessage → `nas-dashboard-rendered`. */
async function measure(browser: Browser, url: string, data: DashboardData, errors: string[]): Promise<number> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const p = (await context.newPage()) as BenchPage;
  p.on('pageerror', (e) => errors.push(e.message ?? String(e)));
  p.on('console', (m) => {
    const text = m.text?.() ?? '';
    if (/error|refused|violat/i.test(text)) errors.push(text);
  });
  await p.goto(url, { waitUntil: 'load' });
  await p.evaluate(
    () =>
      new Promise<void>((done) => {
        // No named functions in here: tsx would wrap them in a helper the page does not have.
        const w = globalThis as unknown as PageGlobals;
        const timer = setInterval(() => {
          if (w.__posted.some((m) => m.type === 'ready')) {
            clearInterval(timer);
            done();
          }
        }, 5);
      }),
    undefined,
  );
  await p.evaluate((d) => {
    (globalThis as unknown as PageGlobals).__benchData = d;
  }, data);
  const ms = await p.evaluate(
    () =>
      new Promise<number>((done) => {
        performance.clearMarks('nas-dashboard-rendered');
        const t0 = performance.now();
        const w = globalThis as unknown as PageGlobals;
        w.postMessage({ type: 'dashboard', data: w.__benchData }, '*');
        const timer = setInterval(() => {
          const marks = performance.getEntriesByName('nas-dashboard-rendered');
          if (marks.length > 0) {
            clearInterval(timer);
            done(marks[marks.length - 1].startTime - t0);
          }
        }, 1);
      }),
    undefined,
  );
  const counts = await p.evaluate(() => {
    const w = globalThis as unknown as PageGlobals;
    return {
      rewardPoints: w.__nasCharts?.reward.data.datasets[0].data.length ?? -1,
      rows: w.document.querySelectorAll('#trial-table tbody tr.trial-row').length,
    };
  }, undefined);
  if (process.env.NAS_BENCH_DEBUG)
    console.log(
      await p.evaluate(
        () =>
          performance
            .getEntriesByType('mark')
            .map((m) => `${m.name}=${m.startTime.toFixed(0)}`)
            .join(' '),
        undefined,
      ),
    );
  if (process.env.NAS_BENCH_SCREENSHOT)
    await p.screenshot({ path: `${process.env.NAS_BENCH_SCREENSHOT}-${data.trials.length}.png`, fullPage: true });
  await context.close();
  if (counts.rewardPoints !== data.trials.filter((t) => t.reward !== null).length)
    errors.push(`reward chart has ${counts.rewardPoints} points`);
  if (counts.rows === 0 || counts.rows > 200) errors.push(`the table has ${counts.rows} rows in the DOM`);
  return ms;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

export async function runDashboardRenderBench(): Promise<void> {
  const folder = mkdtempSync(join(tmpdir(), 'nas-dashboard-bench-'));
  let server: Server | undefined;
  let browser: Browser | undefined;
  try {
    await build({
      entryPoints: [join(REPO, 'webview', 'dashboard.ts')],
      bundle: true,
      format: 'iife',
      platform: 'browser',
      minify: true,
      outfile: join(folder, 'dashboard.js'),
      logLevel: 'warning',
    });
    copyFileSync(join(REPO, 'webview', 'panels.css'), join(folder, 'panels.css'));
    const served = await serve(folder);
    server = served.server;
    browser = await launchBrowser();
    let failed = false;
    for (const trials of [10_000, 1_000]) {
      const data = syntheticRun(trials);
      const errors: string[] = [];
      const times: number[] = [];
      for (let i = 0; i < RUNS; i++) times.push(await measure(browser, served.url, data, errors));
      const med = median(times);
      console.log(
        `dashboard_render trials=${trials} steps=${data.steps.length} decisions=${data.decisions.length} ` +
          `median_ms=${med.toFixed(1)} target_ms=${TARGET_MS} ratio=${(med / TARGET_MS).toFixed(2)} ` +
          `runs_ms=${times.map((t) => t.toFixed(1)).join(',')}`,
      );
      if (errors.length > 0) {
        failed = true;
        console.error(`  problems: ${[...new Set(errors)].join(' | ')}`);
      }
    }
    if (failed) process.exitCode = 1;
  } finally {
    await browser?.close();
    server?.close();
    rmSync(folder, { recursive: true, force: true });
  }
}

if (require.main === module) {
  runDashboardRenderBench().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
