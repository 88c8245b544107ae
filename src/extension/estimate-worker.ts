// The estimate worker thread (dist/estimate-worker.js): sizes search spaces so the extension host never waits on it.

import { parentPort } from 'node:worker_threads';
import type { EstimateReply, EstimateRequest } from '../protocol/estimate.ts';
import { estimateSpace } from '../space/estimate.ts';

const port = parentPort;
if (port === null) throw new Error('estimate-worker.js runs as a worker thread of the extension host');
port.on('message', ({ id, config }: EstimateRequest) => {
  let reply: EstimateReply;
  try {
    reply = { id, estimate: estimateSpace(config) };
  } catch (error) {
    reply = { id, error: error instanceof Error ? error.message : String(error) };
  }
  port.postMessage(reply);
});
