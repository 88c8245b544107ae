// What a tfjs backend kind (runtime.backend) is to the engine: something it can try to start.

/** A started backend says what it is; one that could not start says why. */
export type BackendStart = { started: true; detail: string } | { started: false; failure: string };

export interface BackendKind {
  /** One line on what it computes on, for listings and errors. */
  readonly description: string;
  /** Makes it tfjs's backend, when it can. */
  start(): Promise<BackendStart>;
}
