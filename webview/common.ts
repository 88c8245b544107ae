// Helpers shared by the three panels: the VS Code API, messages, DOM building (no innerHTML with
// data) and the theme colours chart.js needs (read from VS Code's CSS variables, re-read when the
// theme changes).
import type { Chart, ChartOptions } from 'chart.js';
import type { AnyPanelKind, MessageOf, RequestOf } from '../src/extension/panel-kind.ts';

let api: VsCodeApi | undefined;

/** The webview API; acquireVsCodeApi may be called only once per page. */
export function vscode(): VsCodeApi {
  api ??= acquireVsCodeApi();
  return api;
}

/** One kind of panel's side of the host channel: it hears only its kind's messages and sends only its kind's requests. */
export interface PanelChannel<Kind extends AnyPanelKind> {
  post(request: RequestOf<Kind>): void;
  /** Listens for host messages, then tells the host the page is ready for them. */
  listen(handler: (message: MessageOf<Kind>) => void): void;
}

/** The page's channel, typed by its kind's host module: `panelChannel<typeof trialPanel>('trial')` (a type-only import). */
export function panelChannel<Kind extends AnyPanelKind>(view: Kind['view']): PanelChannel<Kind> {
  const post = (request: RequestOf<Kind>) => vscode().postMessage(request);
  return {
    post,
    listen(handler) {
      // The host writes which panel this is into the page; VS Code keeps it to restore the panel after a reload.
      const state = document.getElementById('app')?.dataset.state;
      if (state) {
        const restored = JSON.parse(state) as { view: string };
        if (restored.view !== view) throw new Error(`the ${view} script was loaded into a ${restored.view} panel`);
        vscode().setState(restored);
      }
      window.addEventListener('message', (event: MessageEvent) => {
        const message = event.data as MessageOf<Kind> | undefined;
        if (!message || typeof message !== 'object' || typeof message.type !== 'string') return;
        try {
          handler(message);
        } catch (error) {
          showError(error);
        }
      });
      post({ type: 'ready' } as RequestOf<Kind>);
    },
  };
}

function showError(error: unknown): void {
  console.error(error);
  const app = appRoot();
  const box = h(
    'div',
    { class: 'error-box', role: 'alert' },
    `The panel failed to render: ${error instanceof Error ? error.message : String(error)}`,
  );
  app.prepend(box);
}

export function appRoot(): HTMLElement {
  let app = document.getElementById('app');
  if (!app) {
    app = document.createElement('div');
    app.id = 'app';
    document.body.append(app);
  }
  return app;
}

type Child = Node | string | number | null | undefined | false;

/** An element with attributes and children; text is always set as text, never parsed as HTML. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes?: Record<string, string | number | boolean | undefined>,
  ...children: Child[]
): HTMLElementTagNameMap[K];
export function h(tag: string, attributes?: Record<string, string | number | boolean | undefined>, ...children: Child[]): HTMLElement;
export function h(tag: string, attributes: Record<string, string | number | boolean | undefined> = {}, ...children: Child[]): HTMLElement {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    element.setAttribute(name, value === true ? '' : String(value));
  }
  append(element, children);
  return element;
}

export function append(parent: Element, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(typeof child === 'number' ? String(child) : child);
  }
}

const SVG_NS = 'http://www.w3.org/2000/svg';

export function svg<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attributes: Record<string, string | number> = {},
  text?: string,
): SVGElementTagNameMap[K] {
  const element = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value));
  if (text !== undefined) element.textContent = text;
  return element;
}

// ---------------------------------------------------------------------------------------
// Theme

export interface Theme {
  foreground: string;
  muted: string;
  grid: string;
  background: string;
  font: string;
  blue: string;
  red: string;
  green: string;
  yellow: string;
  orange: string;
  purple: string;
  /** One colour per series, cycling through the theme's chart colours. */
  series: string[];
  highContrast: boolean;
}

function cssVariable(style: CSSStyleDeclaration, name: string, fallback: string): string {
  const value = style.getPropertyValue(name).trim();
  return value || fallback;
}

/** The current theme's colours. Outside VS Code (benchmark page) the variables are unset: the text colour stands in. */
export function readTheme(): Theme {
  const style = getComputedStyle(document.body);
  const foreground = cssVariable(style, '--vscode-editor-foreground', style.color || 'gray');
  const highContrast =
    document.body.classList.contains('vscode-high-contrast') || document.body.classList.contains('vscode-high-contrast-light');
  const contrast = style.getPropertyValue('--vscode-contrastBorder').trim();
  const chart = (name: string) => cssVariable(style, `--vscode-charts-${name}`, foreground);
  const blue = chart('blue');
  const red = chart('red');
  const green = chart('green');
  const yellow = chart('yellow');
  const orange = chart('orange');
  const purple = chart('purple');
  return {
    foreground,
    muted: cssVariable(style, '--vscode-descriptionForeground', foreground),
    grid: contrast || cssVariable(style, '--vscode-charts-lines', cssVariable(style, '--vscode-panel-border', foreground)),
    background: cssVariable(style, '--vscode-editor-background', style.backgroundColor || 'transparent'),
    font: cssVariable(style, '--vscode-font-family', style.fontFamily || 'sans-serif'),
    blue,
    red,
    green,
    yellow,
    orange,
    purple,
    series: [blue, orange, green, purple, red, yellow],
    highContrast,
  };
}

/** Dash patterns that tell apart series sharing a colour (more series than theme colours). */
export function seriesDash(i: number, palette: number): number[] {
  const round = Math.floor(i / palette) % 4;
  return [[], [6, 3], [2, 2], [8, 3, 2, 3]][round];
}

/** Calls back when VS Code switches theme (it swaps the classes of body) or the variables change. */
export function onThemeChange(callback: (theme: Theme) => void): void {
  let last = '';
  const observer = new MutationObserver(() => {
    const key = `${document.body.className}|${document.documentElement.getAttribute('style') ?? ''}`;
    if (key === last) return;
    last = key;
    callback(readTheme());
  });
  observer.observe(document.body, { attributes: true, attributeFilter: ['class'] });
  observer.observe(document.documentElement, { attributes: true, attributeFilter: ['style'] });
}

type Scales = NonNullable<ChartOptions<'line'>['scales']>;

/** A linear axis with a title, coloured from the theme. */
export function linearAxis(theme: Theme, title: string, extra: Record<string, unknown> = {}): Scales[string] {
  return {
    type: 'linear',
    title: { display: true, text: title, color: theme.foreground, font: { family: theme.font } },
    ticks: { color: theme.foreground, font: { family: theme.font }, maxRotation: 0 },
    grid: { color: theme.grid },
    border: { color: theme.grid },
    ...extra,
  } as Scales[string];
}

/** Options every chart shares: no animation, data given as {x, y}, a themed legend and tooltip. */
export function baseOptions(theme: Theme): ChartOptions<'line'> {
  return {
    animation: false,
    parsing: false,
    normalized: true,
    responsive: true,
    maintainAspectRatio: false,
    interaction: { mode: 'nearest', intersect: false },
    plugins: {
      legend: { labels: { color: theme.foreground, font: { family: theme.font }, boxWidth: 12 } },
      tooltip: { enabled: true },
    },
  };
}

/** Re-colours axes and legend of a chart after a theme change (datasets are the caller's). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any chart type
export function applyAxisTheme(chart: Chart<any, any>, theme: Theme): void {
  const options = chart.options as ChartOptions<'line'>;
  for (const scale of Object.values(options.scales ?? {})) {
    if (!scale) continue;
    const s = scale as {
      ticks?: { color?: string; font?: { family?: string } };
      grid?: { color?: string };
      border?: { color?: string };
      title?: { color?: string; font?: { family?: string } };
    };
    if (s.ticks) s.ticks.color = theme.foreground;
    if (s.ticks?.font) s.ticks.font.family = theme.font;
    if (s.grid) s.grid.color = theme.grid;
    if (s.border) s.border.color = theme.grid;
    if (s.title) s.title.color = theme.foreground;
    if (s.title?.font) s.title.font.family = theme.font;
  }
  const legend = options.plugins?.legend;
  if (legend?.labels) {
    legend.labels.color = theme.foreground;
    legend.labels.font = { family: theme.font };
  }
}

/** A card with a heading and a fixed-height box for one chart canvas. */
export function chartCard(id: string, title: string, ...controls: Child[]): { card: HTMLElement; canvas: HTMLCanvasElement } {
  const canvas = h('canvas', { id, role: 'img', 'aria-label': title });
  const card = h(
    'section',
    { class: 'card' },
    h('div', { class: 'card-head' }, h('h2', {}, title), ...controls),
    h('div', { class: 'chart-box' }, canvas),
  );
  return { card, canvas };
}

export function fmt(value: number | null | undefined, digits = 4): string {
  return value === null || value === undefined || !Number.isFinite(value) ? '–' : value.toFixed(digits);
}
