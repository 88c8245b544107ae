// Messages between the extension host and its estimate worker thread, which sizes search spaces
// off the host's thread: a large space takes seconds to search for its parameter range.

import type { SearchConfig } from '../space/config.ts';
import type { SpaceEstimate } from '../space/estimate.ts';

export interface EstimateRequest {
  id: number;
  config: SearchConfig;
}

export type EstimateReply = { id: number; estimate: SpaceEstimate } | { id: number; error: string };
