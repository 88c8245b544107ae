// What a tfjs backend kind (runtime.backend) is to the engine: something it can try to start, or check.

/** A started backend says what it is; one that could not start says why. */
export type BackendStart = { started: true; detail: string } | { started: false; failure: string };

/** How the backend was asked for: by name, or by `auto`, which passes over a GPU adapter that is really the CPU. */
export type BackendRequest = 'named' | 'auto';

/** What `nas-studio doctor` says of one backend, without making it tfjs's backend. */
export interface BackendCheck {
  /** Whether `auto` would start it here. */
  usable: boolean;
  /** What it runs on (the GPU's name when there is one), or why it cannot. */
  detail: string;
  /** What to do about it, when something can be done. */
  hint?: string;
}

export interface BackendKind {
  /** One line on what it computes on, for listings and errors. */
  readonly description: string;
  /** Makes it tfjs's backend, when it can. */
  start(request: BackendRequest): Promise<BackendStart>;
  check(): Promise<BackendCheck>;
}
