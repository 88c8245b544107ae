// A second process on a store, for the reliability tests: `open` opens (and so migrates) it at a
// given instant (so several processes race), `write` writes a run of trials as fast as it can,
// `claim` tries to take run 1 over.
import { Store } from '../../src/engine/store/store.ts';
import { parseSearchText } from '../../src/space/parse.ts';
import { decodeArchitecture } from '../../src/space/graph.ts';
import { tinySearchText } from '../support/tiny.ts';

const [mode, db, count] = process.argv.slice(2);
if (mode === 'open') while (Date.now() < Number(count));
const store = new Store(db);
try {
  if (mode === 'write') {
    const { config } = parseSearchText(tinySearchText(), '/tmp/tiny.nas.yaml');
    if (!config) throw new Error('the tiny search does not parse');
    const runId = store.createRun({ name: 'writer', spaceFile: '/tmp/tiny.nas.yaml', spaceText: '', config });
    store.claimRun(runId);
    const architecture = Array(7).fill(0);
    const graph = decodeArchitecture(config.space, architecture);
    for (let index = 0; index < Number(count); index++) {
      store.startTrial(runId, index, architecture, 'key', graph);
      store.finishTrial({ runId, index, status: 'done', reward: 0.5, measurements: null, error: null });
      store.recordTell(runId, undefined, { toldThrough: index, state: { index } });
      store.addRunNote(runId, 'info', `trial ${index}`);
    }
    store.setRunStatus(runId, 'done');
  } else if (mode === 'claim') {
    store.claimRun(1);
  }
} catch (error) {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
} finally {
  store.close();
}
