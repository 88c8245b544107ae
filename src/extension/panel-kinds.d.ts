// Every panel kind, one per module in src/extension/panels/: the build (scripts/build.mjs) makes this
// module from that folder, so a new panel is not also written into a list.
declare module 'nas-studio:panel-kinds' {
  export const panelKinds: readonly import('./panel-kind.ts').AnyPanelKind[];
}
