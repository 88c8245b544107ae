// What a tfjs backend kind (runtime.backend) is to the engine: something it can try to start, or check.

import type { BackendCheck } from '../../protocol/engine.ts';

// Its check crosses to the front ends, so its type lives in the protocol.
export type { BackendCheck };

/** A started backend says what it is; one that could not start says why. */
export type BackendStart = { started: true; detail: string } | { started: false; failure: string };

/** How the backend was asked for: by name, or by `auto`, which passes over a GPU adapter that is really the CPU. */
export type BackendRequest = 'named' | 'auto';

export interface BackendKind {
  /** One line on what it computes on, for listings and errors. */
  readonly description: string;
  /** Makes it tfjs's backend, when it can. */
  start(request: BackendRequest): Promise<BackendStart>;
  check(): Promise<BackendCheck>;
}
