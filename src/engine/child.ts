// Entry point of the engine child process that the VS Code extension starts with a plain Node:
// it takes commands over IPC and streams the engine's events back, all typed in src/protocol.

import type { EngineCommand, EngineMessage } from '../protocol/engine.ts';
import { InvalidSearchFile, createRunFromFile, runSearch } from './search.ts';
import { Store } from './store/store.ts';

const send = (message: EngineMessage) => process.send?.(message);
const stopping = new AbortController();

async function execute(command: Exclude<EngineCommand, { type: 'stop' }>): Promise<void> {
  const store = new Store(command.db);
  try {
    const runId = command.type === 'search' ? createRunFromFile(store, command.file, command.overrides) : command.runId;
    const status = await runSearch(store, runId, { onEvent: (event) => send({ type: 'event', event }), signal: stopping.signal });
    send({ type: 'done', runId, status });
  } catch (error) {
    if (error instanceof InvalidSearchFile) send({ type: 'failed', message: 'the search file is invalid', problems: error.problems });
    else send({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
  } finally {
    store.close();
  }
}

let busy = false;
process.on('message', (command: EngineCommand) => {
  if (command.type === 'stop') {
    stopping.abort();
    return;
  }
  if (busy) {
    send({ type: 'failed', message: 'this engine process is already running a search' });
    return;
  }
  busy = true;
  void execute(command).finally(() => process.disconnect?.());
});
// The front end is gone: stop the search cleanly so the run is marked stopped, not left running.
process.on('disconnect', () => stopping.abort());
