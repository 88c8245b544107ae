// End-to-end harness: the built extension in a real VS Code (code-server 4.100.3, VS Code
// 1.100.3), driven by playwright-core in Debian's Chromium, offline.
// What it needs comes from scripts/e2e-setup.sh, in $NAS_E2E_CACHE (default
// ~/.cache/nas-studio-e2e).
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
  closeSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import Database from 'better-sqlite3';

export const REPO = resolve(__dirname, '..', '..');
export const CACHE = process.env.NAS_E2E_CACHE || join(homedir(), '.cache', 'nas-studio-e2e');
export const CODE_SERVER_ENTRY = join(CACHE, 'node_modules', 'code-server', 'out', 'node', 'entry.js');
export const CHROMIUM = '/usr/bin/chromium';
export const SCREENSHOTS = join(REPO, 'test', 'e2e', 'screenshots');

/** Every process the harness starts carries this in its environment (and so do their children). */
export const SESSION_MARKER = 'NAS_E2E_SESSION';

// ---------------------------------------------------------------------------------------
// The few playwright-core types the harness uses. playwright-core is loaded from the e2e
// cache at run time, so typecheck and lint pass in a clone that never ran the setup.
export interface Locator {
  first(): Locator;
  last(): Locator;
  nth(index: number): Locator;
  locator(selector: string): Locator;
  filter(options: { hasText?: string | RegExp; has?: Locator }): Locator;
  click(options?: { timeout?: number; button?: 'left' | 'right' | 'middle'; force?: boolean }): Promise<void>;
  dblclick(options?: { timeout?: number }): Promise<void>;
  waitFor(options?: { state?: 'attached' | 'detached' | 'visible' | 'hidden'; timeout?: number }): Promise<void>;
  textContent(options?: { timeout?: number }): Promise<string | null>;
  innerText(options?: { timeout?: number }): Promise<string>;
  allInnerTexts(): Promise<string[]>;
  allTextContents(): Promise<string[]>;
  getAttribute(name: string, options?: { timeout?: number }): Promise<string | null>;
  count(): Promise<number>;
  isVisible(): Promise<boolean>;
  press(key: string, options?: { timeout?: number }): Promise<void>;
  fill(value: string, options?: { timeout?: number }): Promise<void>;
  selectOption(value: string, options?: { timeout?: number }): Promise<string[]>;
  hover(options?: { timeout?: number; force?: boolean }): Promise<void>;
  focus(options?: { timeout?: number }): Promise<void>;
  /** Runs `fn` in the frame of the element (a webview's page for a locator inside a FrameLocator). */
  evaluate<R, A = undefined>(fn: (element: unknown, arg: A) => R | Promise<R>, arg?: A, options?: { timeout?: number }): Promise<R>;
  screenshot(options?: { path?: string; timeout?: number }): Promise<Buffer>;
}
/** An iframe's content, to find elements in (webviews: see webviewFrame). */
export interface FrameLocator {
  locator(selector: string): Locator;
  frameLocator(selector: string): FrameLocator;
  first(): FrameLocator;
  last(): FrameLocator;
  nth(index: number): FrameLocator;
  owner(): Locator;
}
export interface Keyboard {
  press(key: string, options?: { delay?: number }): Promise<void>;
  type(text: string, options?: { delay?: number }): Promise<void>;
  insertText(text: string): Promise<void>;
}
export interface Page {
  goto(url: string, options?: { timeout?: number; waitUntil?: 'load' | 'domcontentloaded' | 'networkidle' | 'commit' }): Promise<unknown>;
  evaluate<R, A>(fn: (arg: A) => R | Promise<R>, arg?: A): Promise<R>;
  locator(selector: string): Locator;
  getByRole(role: string, options?: { name?: string | RegExp; exact?: boolean }): Locator;
  frameLocator(selector: string): FrameLocator;
  keyboard: Keyboard;
  screenshot(options?: { path?: string; fullPage?: boolean }): Promise<Buffer>;
  waitForTimeout(ms: number): Promise<void>;
  on(event: 'console' | 'pageerror', listener: (arg: { text?: () => string; message?: string }) => void): void;
  close(): Promise<void>;
}
interface BrowserContext {
  newPage(): Promise<Page>;
  close(): Promise<void>;
}
export interface Browser {
  newContext(options?: { viewport?: { width: number; height: number } }): Promise<BrowserContext>;
  close(): Promise<void>;
}
interface Chromium {
  launch(options: { executablePath: string; headless: boolean; args: string[]; timeout?: number }): Promise<Browser>;
}

// ---------------------------------------------------------------------------------------
// Setup check

/** Fails with what to run when scripts/e2e-setup.sh has not been run (or not to the end). */
export function assertSetup(): void {
  const problems: string[] = [];
  if (!existsSync(CODE_SERVER_ENTRY)) problems.push(`code-server is not installed (${CODE_SERVER_ENTRY} is missing)`);
  else if (!readdirSync(CACHE).some((f) => f.startsWith('.setup-done-'))) problems.push(`the setup in ${CACHE} did not finish`);
  if (!existsSync(join(CACHE, 'node_modules', 'playwright-core'))) problems.push(`playwright-core is not installed in ${CACHE}`);
  if (!existsSync(CHROMIUM)) problems.push(`${CHROMIUM} is missing (Debian package chromium)`);
  if (!existsSync(join(REPO, 'dist', 'extension.js'))) problems.push('dist/extension.js is missing: run `npm run build` first');
  if (problems.length > 0) {
    throw new Error(
      `The e2e setup is incomplete:\n  - ${problems.join('\n  - ')}\nRun: bash scripts/e2e-setup.sh (as root, or with sudo ` +
        `for the Debian packages), then npm run build.`,
    );
  }
}

// ---------------------------------------------------------------------------------------
// (a) the extension in a fresh extensions folder

export interface ExtensionInstall {
  extensionsDir: string;
  extensionDir: string;
  id: string;
}

/** Copies the built extension into `<root>/extensions/<publisher>.<name>-<version>/`; node_modules is a link to the repo's. */
export function installExtension(root: string): ExtensionInstall {
  const manifest = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { publisher: string; name: string; version: string };
  const id = `${manifest.publisher}.${manifest.name}`;
  const extensionsDir = join(root, 'extensions');
  const extensionDir = join(extensionsDir, `${id}-${manifest.version}`);
  mkdirSync(extensionDir, { recursive: true });
  for (const item of ['package.json', 'dist', 'schemas', 'examples', 'data', 'media', 'README.md']) {
    const from = join(REPO, item);
    if (existsSync(from)) cpSync(from, join(extensionDir, item), { recursive: true });
  }
  symlinkSync(join(REPO, 'node_modules'), join(extensionDir, 'node_modules'), 'dir');
  return { extensionsDir, extensionDir, id };
}

// ---------------------------------------------------------------------------------------
// (b) a workspace folder

/** A fresh folder with the given files (relative paths) and `.vscode/settings.json`. */
export function createWorkspace(root: string, files: Record<string, string>, settings: Record<string, unknown> = {}): string {
  const folder = join(root, 'workspace');
  mkdirSync(join(folder, '.vscode'), { recursive: true });
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(folder, name)), { recursive: true });
    writeFileSync(join(folder, name), text);
  }
  writeFileSync(join(folder, '.vscode', 'settings.json'), JSON.stringify(settings, null, 2) + '\n');
  return folder;
}

// ---------------------------------------------------------------------------------------
// (c) code-server

export interface CodeServer {
  port: number;
  pid: number;
  url: string;
  logFile: string;
  marker: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

/**
 * User settings for workspace trust. With trust enabled and no startup prompt, a folder
 * opened for the first time (a fresh user-data-dir trusts nothing) is in Restricted Mode;
 * the trusted session answers the startup dialog with "Yes, I trust the authors" (see
 * openWorkbench), so the extension sees a workspace that became trusted the real way.
 */
function trustSettings(trusted: boolean): Record<string, unknown> {
  return trusted
    ? { 'security.workspace.trust.enabled': true, 'security.workspace.trust.startupPrompt': 'always' }
    : { 'security.workspace.trust.enabled': true, 'security.workspace.trust.startupPrompt': 'never' };
}

export interface StartOptions {
  root: string;
  extensionsDir: string;
  trusted: boolean;
  userSettings?: Record<string, unknown>;
  env?: Record<string, string>;
}

/** Starts code-server in its own process group on a free port and waits until it answers. */
export async function startCodeServer(options: StartOptions): Promise<CodeServer> {
  const userDataDir = join(options.root, 'user-data');
  mkdirSync(join(userDataDir, 'User'), { recursive: true });
  const userSettings = {
    'workbench.startupEditor': 'none',
    'workbench.tips.enabled': false,
    'workbench.enableExperiments': false,
    'telemetry.telemetryLevel': 'off',
    'update.mode': 'none',
    'extensions.autoCheckUpdates': false,
    'extensions.autoUpdate': false,
    'extensions.ignoreRecommendations': true,
    'chat.commandCenter.enabled': false,
    'window.commandCenter': false,
    ...trustSettings(options.trusted),
    ...options.userSettings,
  };
  writeFileSync(join(userDataDir, 'User', 'settings.json'), JSON.stringify(userSettings, null, 2) + '\n');
  const port = await freePort();
  const marker = `${process.pid}-${port}-${Date.now()}`;
  const logFile = join(options.root, 'code-server.log');
  const log = openSync(logFile, 'a');
  const args = [
    CODE_SERVER_ENTRY,
    '--auth',
    'none',
    '--bind-addr',
    `127.0.0.1:${port}`,
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-getting-started-override',
    '--extensions-dir',
    options.extensionsDir,
    '--user-data-dir',
    userDataDir,
  ];
  const child = spawn(process.execPath, args, {
    detached: true, // its own process group, so stop() ends the extension host and anything it started
    stdio: ['ignore', log, log],
    env: { ...process.env, ...options.env, [SESSION_MARKER]: marker, NODE_OPTIONS: '' },
  });
  closeSync(log);
  const pid = child.pid;
  if (pid === undefined) throw new Error('code-server did not start');
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (exited) throw new Error(`code-server exited at start; its log:\n${readFileSync(logFile, 'utf8')}`);
    try {
      const response = await fetch(`${url}/healthz`);
      if (response.ok) break;
    } catch {
      /* not yet listening */
    }
    if (Date.now() > deadline) {
      killGroup(pid, 'SIGKILL');
      throw new Error(`code-server did not answer on ${url} within 60 s; its log:\n${readFileSync(logFile, 'utf8')}`);
    }
    await sleep(250);
  }
  const stop = async (): Promise<void> => {
    if (!exited) {
      killGroup(pid, 'SIGTERM');
      const until = Date.now() + 10_000;
      while (!exited && Date.now() < until) await sleep(100);
    }
    // Whatever is left in the group (an extension host that ignored SIGTERM, say) goes now.
    killGroup(pid, 'SIGKILL');
  };
  return { port, pid, url, logFile, marker, process: child, stop };
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    /* the group is gone */
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Processes whose command line matches `pattern` (pgrep -f) and that belong to a session of
 * this harness (the marker in their environment) or run from `pathHint`. Other engineers'
 * engine processes on the same machine are not counted.
 */
export function leftoverProcesses(pattern: string, markers: string[], pathHint?: string): { pid: number; cmdline: string }[] {
  let out = '';
  try {
    out = execFileSync('pgrep', ['-f', pattern], { encoding: 'utf8' });
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
  const found: { pid: number; cmdline: string }[] = [];
  for (const line of out.split('\n')) {
    const pid = Number(line.trim());
    if (!pid || pid === process.pid) continue;
    let cmdline = '';
    let environ = '';
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
      environ = readFileSync(`/proc/${pid}/environ`, 'utf8');
    } catch {
      /* gone meanwhile, or not ours to read */
    }
    if (cmdline.includes('pgrep')) continue;
    const ours = markers.some((m) => environ.includes(`${SESSION_MARKER}=${m}`)) || (pathHint !== undefined && cmdline.includes(pathHint));
    if (ours) found.push({ pid, cmdline });
  }
  return found;
}

// ---------------------------------------------------------------------------------------
// (d) the browser and the workbench

export function loadPlaywright(): { chromium: Chromium } {
  const require = createRequire(join(CACHE, 'package.json'));
  return require('playwright-core') as { chromium: Chromium };
}

export async function launchBrowser(): Promise<Browser> {
  const { chromium } = loadPlaywright();
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    timeout: 60_000,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-dev-shm-usage',
    ],
  });
}

export interface Workbench {
  page: Page;
  close(): Promise<void>;
  /** Console lines and page errors seen so far (for failure messages). */
  console: string[];
}

/** Opens the workspace in a new page and waits for the workbench; answers the trust prompt as asked. */
export async function openWorkbench(browser: Browser, server: CodeServer, folder: string, trusted: boolean): Promise<Workbench> {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  const page = await context.newPage();
  const lines: string[] = [];
  page.on('console', (m) => {
    if (m.text) lines.push(m.text());
  });
  page.on('pageerror', (e) => {
    lines.push(`pageerror: ${e.message}`);
  });
  await page.goto(`${server.url}/?folder=${encodeURIComponent(folder)}`, { timeout: 60_000, waitUntil: 'domcontentloaded' });
  await page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: 60_000 });
  if (trusted) {
    // The startup dialog: "Do you trust the authors of the files in this folder?"
    const yes = page.locator('.monaco-dialog-box .monaco-button').filter({ hasText: /Yes, I trust/ });
    await yes.first().waitFor({ state: 'visible', timeout: 60_000 });
    await yes.first().click();
    await page.locator('.monaco-dialog-box').waitFor({ state: 'detached', timeout: 15_000 });
    // Granting trust removes the Restricted Mode entry a moment after the dialog closes.
    await restrictedModeIndicator(page).waitFor({ state: 'detached', timeout: 15_000 });
  } else {
    await restrictedModeIndicator(page).waitFor({ state: 'visible', timeout: 60_000 });
  }
  // The status bar fills in once the extension host is up.
  await page.locator('#workbench\\.parts\\.statusbar').waitFor({ state: 'visible', timeout: 60_000 });
  return { page, console: lines, close: () => context.close() };
}

/** The "Restricted Mode" entry at the left of the status bar (only shown when the workspace is untrusted). */
export function restrictedModeIndicator(page: Page): Locator {
  return page.locator('.statusbar-item').filter({ hasText: 'Restricted Mode' });
}

// ---------------------------------------------------------------------------------------
// (e) commands and quick picks

const quickInput = '.quick-input-widget';

/** Runs a command by its palette title ("NAS: Start Architecture Search"). */
export async function runCommand(page: Page, title: string): Promise<void> {
  const widget = page.locator(quickInput);
  const input = page.locator(`${quickInput} input.input`);
  // Under load the palette of a previous pick may still be closing when F1 lands, and hides the input
  // again; and a key pressed while a webview holds the focus goes to its iframe, which forwards it to
  // the workbench late or not at all. So F1 goes to the workbench's own document, and is pressed once
  // more rather than waiting out the timeouts.
  for (let attempt = 1; ; attempt++) {
    await page.evaluate(() => {
      const active = (globalThis as unknown as { document: { activeElement: { tagName: string; blur(): void } | null } }).document
        .activeElement;
      if (active?.tagName === 'IFRAME') active.blur();
    });
    await page.keyboard.press('Escape');
    await page.keyboard.press('F1');
    try {
      await widget.waitFor({ state: 'visible', timeout: 5_000 });
      await input.fill(`>${title}`, { timeout: 10_000 });
      break;
    } catch (error) {
      if (attempt === 3) throw error;
    }
  }
  const row = page
    .locator(`${quickInput} .quick-input-list .monaco-list-row`)
    .filter({ has: page.locator('.label-name').filter({ hasText: exactly(title) }) });
  try {
    await row.first().waitFor({ state: 'visible', timeout: 15_000 });
  } catch {
    const shown = await page.locator(`${quickInput} .quick-input-list .monaco-list-row .label-name`).allTextContents();
    await page.keyboard.press('Escape');
    throw new Error(`No command "${title}" in the palette (it showed: ${shown.length ? shown.join(' | ') : 'nothing'})`);
  }
  await row.first().click();
}

/** Picks the quick pick item whose label contains `label` (a string or a pattern). */
export async function pickQuickItem(page: Page, label: string | RegExp, timeout = 15_000): Promise<void> {
  const row = page.locator(`${quickInput} .quick-input-list .monaco-list-row`).filter({ hasText: label });
  try {
    await row.first().waitFor({ state: 'visible', timeout });
  } catch {
    const shown = await page.locator(`${quickInput} .quick-input-list .monaco-list-row`).allInnerTexts();
    throw new Error(
      `No quick pick item ${String(label)} (it showed: ${shown.length ? shown.map((s) => s.replace(/\s+/g, ' ')).join(' | ') : 'nothing'})`,
    );
  }
  await row.first().click();
}

/** The items the open quick pick shows (empty when none is open). */
export async function quickItems(page: Page): Promise<string[]> {
  if (!(await page.locator(quickInput).isVisible())) return [];
  return (await page.locator(`${quickInput} .quick-input-list .monaco-list-row`).allInnerTexts()).map((s) => s.replace(/\s+/g, ' ').trim());
}

function exactly(text: string): RegExp {
  return new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
}

// ---------------------------------------------------------------------------------------
// Reading the workbench

/** Texts of the notification toasts and of an open dialog, newest first. */
export async function messages(page: Page): Promise<string[]> {
  const toasts = await page.locator('.notifications-toasts .notification-toast .notification-list-item-message').allInnerTexts();
  const dialogs = await page.locator('.monaco-dialog-box .dialog-message-container').allInnerTexts();
  return [...dialogs, ...toasts].map((s) => s.replace(/\s+/g, ' ').trim());
}

/** Waits for a notification or dialog whose text matches and returns it. */
export async function waitForMessage(page: Page, pattern: RegExp, timeout = 30_000): Promise<string> {
  return waitFor(
    async () => (await messages(page)).find((m) => pattern.test(m)),
    timeout,
    async () => `a message matching ${pattern} (shown: ${JSON.stringify(await messages(page))})`,
  );
}

/** The text the Output panel shows, its spaces as written (VS Code draws only the lines in view, wrapped). */
export async function outputPanelText(page: Page): Promise<string> {
  const lines = page.locator('.part.panel .monaco-editor .view-lines');
  if ((await lines.count()) === 0) return '';
  return (await lines.first().innerText()).replace(/\u00a0/g, ' ');
}

/** Texts of the status bar items. */
export async function statusBarTexts(page: Page): Promise<string[]> {
  return (await page.locator('#workbench\\.parts\\.statusbar .statusbar-item').allInnerTexts())
    .map((s) => s.replace(/\s+/g, ' ').trim())
    .filter(Boolean);
}

/** Rows of a tree view by its title ("Runs"): label, description and depth. */
export async function treeRows(
  page: Page,
  viewTitle: string,
): Promise<{ label: string; description: string; level: number; expanded: string | null }[]> {
  const pane = viewPane(page, viewTitle);
  const rows = pane.locator('.monaco-list-row');
  const n = await rows.count();
  const out: { label: string; description: string; level: number; expanded: string | null }[] = [];
  for (let i = 0; i < n; i++) {
    const row = rows.nth(i);
    const label = (
      (await row
        .locator('.label-name')
        .first()
        .textContent()
        .catch(() => '')) ?? ''
    ).trim();
    const description =
      (await row.locator('.label-description').count()) > 0
        ? ((await row.locator('.label-description').first().textContent()) ?? '').trim()
        : '';
    const level = Number((await row.getAttribute('aria-level')) ?? '0');
    out.push({ label, description, level, expanded: await row.getAttribute('aria-expanded') });
  }
  return out;
}

/** The pane (header and body) of a view, by the view's title. */
export function viewPane(page: Page, viewTitle: string): Locator {
  return page
    .locator('.pane')
    .filter({ has: page.locator('.pane-header h3.title').filter({ hasText: exactly(viewTitle) }) })
    .first();
}

/** A row of the Runs tree by its label (the whole label, or a pattern). */
export function runsTreeRow(page: Page, label: string | RegExp): Locator {
  return viewPane(page, 'Runs')
    .locator('.monaco-list-row')
    .filter({ has: page.locator('.label-name').filter({ hasText: typeof label === 'string' ? new RegExp(`^${label}$`) : label }) })
    .first();
}

/** Right-clicks a row of the Runs tree and runs the context menu item `item`. */
export async function runsTreeContextMenu(page: Page, label: string | RegExp, item: string): Promise<void> {
  await runsTreeRow(page, label).click({ button: 'right' });
  const action = page.locator('.context-view .action-label').filter({ hasText: new RegExp(`^${item}$`) });
  await action.first().waitFor({ state: 'visible', timeout: 15_000 });
  // The workbench's menus act on the highlighted item; hovering highlights it.
  await action.first().hover();
  await page.keyboard.press('Enter');
}

/** Polls `probe` until it returns a value (not undefined/false) or the time runs out. */
export async function waitFor<T>(
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  timeout: number,
  what: string | (() => Promise<string> | string),
  every = 500,
): Promise<T> {
  const deadline = Date.now() + timeout;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const description = typeof what === 'string' ? what : await what();
      throw new Error(
        `Timed out after ${Math.round(timeout / 1000)} s waiting for ${description}` +
          `${lastError ? ` (last error: ${String(lastError)})` : ''}`,
      );
    }
    await sleep(every);
  }
}

// ---------------------------------------------------------------------------------------
// (f) screenshots

let shotIndex = 0;

/** Saves a PNG of the page as test/e2e/screenshots/<nn>-<name>.png and returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  shotIndex += 1;
  const file = join(SCREENSHOTS, `${String(shotIndex).padStart(2, '0')}-${name.replace(/[^a-zA-Z0-9_-]+/g, '-')}.png`);
  await page.screenshot({ path: file });
  return file;
}

/** Empties the screenshots folder (at the start of a test file). */
export function clearScreenshots(): void {
  rmSync(SCREENSHOTS, { recursive: true, force: true });
  mkdirSync(SCREENSHOTS, { recursive: true });
  shotIndex = 0;
}

// ---------------------------------------------------------------------------------------
// A whole session: extension + workspace + server + browser

export interface Session {
  root: string;
  workspace: string;
  extension: ExtensionInstall;
  server: CodeServer;
  browser: Browser;
  workbench: Workbench;
  page: Page;
  close(): Promise<void>;
}

export interface SessionOptions {
  trusted: boolean;
  files: Record<string, string>;
  workspaceSettings?: Record<string, unknown>;
  userSettings?: Record<string, unknown>;
  /** Leave the extension out (to try the harness on the bare workbench). */
  withoutExtension?: boolean;
  keepRoot?: boolean;
  /** Runs on the workspace folder after its files are written and before code-server starts (a database to open, say). */
  prepareWorkspace?: (workspace: string) => void;
}

export async function openSession(options: SessionOptions): Promise<Session> {
  const root = mkdtempSync(join(tmpdir(), 'nas-e2e-'));
  const extension = options.withoutExtension
    ? { extensionsDir: join(root, 'extensions'), extensionDir: '', id: '' }
    : installExtension(root);
  mkdirSync(extension.extensionsDir, { recursive: true });
  const workspace = createWorkspace(root, options.files, options.workspaceSettings);
  options.prepareWorkspace?.(workspace);
  const server = await startCodeServer({
    root,
    extensionsDir: extension.extensionsDir,
    trusted: options.trusted,
    userSettings: options.userSettings,
  });
  let browser: Browser | undefined;
  try {
    browser = await launchBrowser();
    const workbench = await openWorkbench(browser, server, workspace, options.trusted);
    const b = browser;
    return {
      root,
      workspace,
      extension,
      server,
      browser,
      workbench,
      page: workbench.page,
      close: async () => {
        await workbench.close().catch(() => undefined);
        await b.close().catch(() => undefined);
        await server.stop();
        if (!options.keepRoot) rmSync(root, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await browser?.close().catch(() => undefined);
    await server.stop();
    throw new Error(`${String(error)}\ncode-server log (${server.logFile}):\n${readFileSync(server.logFile, 'utf8').slice(-4000)}`);
  }
}

// ---------------------------------------------------------------------------------------
// Editors and views

/** Opens a workspace file by name through Quick Open and waits for its editor tab. */
export async function openFile(page: Page, name: string): Promise<void> {
  await page.keyboard.press('Escape');
  await page.keyboard.press('F1');
  const input = page.locator(`${quickInput} input.input`);
  await input.waitFor({ state: 'visible', timeout: 10_000 });
  await input.fill(name);
  await pickQuickItem(page, name);
  await page.locator('.tabs-container .tab').filter({ hasText: name }).first().waitFor({ state: 'visible', timeout: 15_000 });
  await page.locator('.editor-instance .monaco-editor').first().waitFor({ state: 'visible', timeout: 15_000 });
}

/** Shows a view container of the activity bar by its title ("NAS Studio"). */
export async function showViewContainer(page: Page, title: string): Promise<void> {
  const byLabel = page.locator(`.activitybar .action-item .action-label[aria-label^="${title}"]`);
  await byLabel.first().waitFor({ state: 'visible', timeout: 30_000 });
  const sidebarTitle = page
    .locator('.sidebar .composite.title')
    .filter({ hasText: new RegExp(title, 'i') })
    .first();
  // Clicking the active container hides the sidebar, and after a reload the activity bar may show it
  // as active before the sidebar is back: click until its title is visible, checking in between.
  for (let attempt = 0; attempt < 4; attempt++) {
    if (await sidebarTitle.isVisible()) return;
    const selected = await page.locator(`.activitybar .action-item.checked .action-label[aria-label^="${title}"]`).count();
    if (selected === 0 || attempt > 0) await byLabel.first().click();
    await sidebarTitle.waitFor({ state: 'visible', timeout: 4_000 }).catch(() => undefined);
  }
  await sidebarTitle.waitFor({ state: 'visible', timeout: 15_000 });
}

// ---------------------------------------------------------------------------------------
// Webviews

/**
 * The content of the webview panel that is showing (the active editor's). VS Code keeps every
 * webview in an outer iframe (`iframe.webview.ready`) whose page holds the extension's page in
 * `#active-frame`; hidden panels (retainContextWhenHidden) keep theirs but are not visible.
 */
export function webviewFrame(page: Page): FrameLocator {
  return page.frameLocator('iframe.webview.ready:visible').frameLocator('#active-frame');
}

// ---------------------------------------------------------------------------------------
// Helpers the test files share.

/** Reads the extension's database while a search may be writing it: read-only, waiting out a writer's lock. */
export function readDatabase<T>(dbPath: string, read: (db: Database.Database) => T): T {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    db.pragma('busy_timeout = 2000');
    return read(db);
  } finally {
    db.close();
  }
}

/**
 * Starts the search of `file` from the palette and waits until run `runId` is done in the database `db` and
 * its row in the Runs tree (`label`) reads done (and, given `trials`, `done · trials/trials`); returns the seconds it took.
 */
export async function searchFromPalette(
  page: Page,
  search: { file: string; db: () => string; runId: number; label: string; trials?: number; timeout: number },
): Promise<number> {
  const { file, db, runId, label, trials, timeout } = search;
  const stored = () =>
    existsSync(db())
      ? readDatabase(
          db(),
          (read) =>
            read.prepare('SELECT status, error FROM runs WHERE id = ?').get(runId) as { status: string; error: string | null } | undefined,
        )
      : undefined;
  await openFile(page, file);
  const t0 = Date.now();
  await runCommand(page, 'NAS: Start Architecture Search');
  await showViewContainer(page, 'NAS Studio');
  await waitFor(
    () => {
      const run = stored();
      if (run && run.status !== 'running' && run.status !== 'done') throw new Error(`run ${runId} ended ${run.status}: ${run.error}`);
      return run?.status === 'done';
    },
    timeout,
    async () => `run ${runId} to finish (database: ${JSON.stringify(stored())}; messages ${JSON.stringify(await messages(page))})`,
    1000,
  );
  const seconds = (Date.now() - t0) / 1000;
  console.log(`${label}: palette → done in ${seconds.toFixed(1)} s`);
  const done = trials === undefined ? 'done' : `done · ${trials}/${trials}`;
  await waitFor(
    async () => (await treeRows(page, 'Runs')).find((r) => r.level === 1 && r.label === label && r.description.startsWith(done)),
    30_000,
    async () => `${label} ${done} in the Runs tree (rows: ${JSON.stringify(await treeRows(page, 'Runs'))})`,
  );
  return seconds;
}

/** Screenshots named `<prefix>-<name>`; each path is logged for whoever reads the test output. */
export function screenshotter(prefix: string): (page: Page, name: string) => Promise<string> {
  return async (page, name) => {
    const file = await screenshot(page, `${prefix}-${name}`);
    console.log(`screenshot ${file}`);
    return file;
  };
}

/** Whether the page in `frame` has reached performance mark `mark` (a panel's full render). */
export async function rendered(frame: FrameLocator, mark: string): Promise<boolean> {
  return frame.locator('body').evaluate((_, name) => performance.getEntriesByName(name).length > 0, mark);
}

/** For each webview panel: an element it has once drawn, and the performance mark of its first full render. */
const PANEL_RENDERED = {
  dashboard: { selector: '#chart-reward', mark: 'nas-dashboard-rendered' },
  trial: { selector: 'svg .arch-node', mark: 'nas-trial-rendered' },
} as const;

/**
 * Waits until the visible webview is a `panel` that finished its first render, and returns its frame.
 * A timeout quotes the webview's text and `detail` (the workbench's last console lines, say).
 */
export async function waitForPanel(page: Page, panel: keyof typeof PANEL_RENDERED, detail?: () => string): Promise<FrameLocator> {
  const frame = webviewFrame(page);
  const { selector, mark } = PANEL_RENDERED[panel];
  await waitFor(
    async () => (await frame.locator(selector).count()) > 0 && (await rendered(frame, mark)),
    60_000,
    async () => {
      const text = await frame
        .locator('body')
        .innerText({ timeout: 1000 })
        .catch(() => '(no webview)');
      return `the ${panel} webview to render (its text: ${JSON.stringify(text)}${detail ? `; ${detail()}` : ''})`;
    },
    250,
  );
  return frame;
}

/** Switches VS Code's colour theme through the palette, then waits for the webviews to redraw in it. */
export async function setColorTheme(page: Page, theme: string): Promise<void> {
  await runCommand(page, 'Preferences: Color Theme');
  const input = page.locator('.quick-input-widget input.input');
  await input.waitFor({ state: 'visible', timeout: 10_000 });
  await input.fill(theme);
  // Its label is the theme's name ("Light Modern"), the id ("Default Light Modern") beside it.
  await pickQuickItem(page, theme);
  await page.locator('.quick-input-widget').waitFor({ state: 'hidden', timeout: 10_000 });
  await sleep(1500); // the webviews get the new theme's variables and redraw
}

/** The extension host's own log lines (terminating, exiting) from the session's user-data dir. */
export function extensionHostLog(session: Session): string {
  const logs = join(session.root, 'user-data', 'logs');
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) walk(join(dir, entry.name));
      else if (entry.name === 'remoteexthost.log') found.push(readFileSync(join(dir, entry.name), 'utf8'));
    }
  };
  if (existsSync(logs)) walk(logs);
  return found.join('\n');
}
