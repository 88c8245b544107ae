// What a VS Code webview gives its scripts beyond the DOM.
declare global {
  interface VsCodeApi {
    /** Typed per panel kind by panelChannel. */
    postMessage(message: { type: string }): void;
    getState(): unknown;
    setState(state: unknown): void;
  }
  function acquireVsCodeApi(): VsCodeApi;
  interface Window {
    /** Read by the e2e tests and the render benchmark: the dashboard's charts, by name. */
    __nasCharts?: Record<string, unknown>;
  }
}

export {};
