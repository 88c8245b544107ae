// A CLI search of command trials stopped by a signal: the trial's program runs in a process group of its own
// (a terminal's Ctrl-C does not reach it), and the engine ends that whole group, grandchildren included.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkDatabase, freshDb, startSearch } from './support.ts';

const FIXTURES = join(__dirname, '..', 'fixtures', 'command-trials');
const python = ['python3', '/usr/bin/python3'].find((candidate) => spawnSync(candidate, ['-c', 'import json']).status === 0);

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

for (const [name, signal] of [
  ['Ctrl-C (SIGINT to the search process group)', 'SIGINT'],
  ['SIGTERM to the search process group', 'SIGTERM'],
] as const) {
  test(`${name} stops a command trial and its grandchild: no orphan, the trial interrupted`, { timeout: 120_000 }, async (t) => {
    if (!python) {
      console.log('SKIP: no python3 on PATH and no /usr/bin/python3');
      t.skip('no python3');
      return;
    }
    const dir = mkdtempSync(join(tmpdir(), 'nas-command-signal-'));
    const pidFile = join(dir, 'worker.pid');
    const file = join(dir, 'command.nas.yaml');
    writeFileSync(
      file,
      `name: command-signal
dataset: { kind: digits }
space: { kind: macro, layers: 2, filter_heights: [1, 3], filter_widths: [1, 3], filters: [4, 8], skip_connections: true }
strategy: { kind: random }
evaluation: { kind: command, command: ${JSON.stringify([python, join(FIXTURES, 'grandchild.py'), pidFile])} }
budget: { trials: 2 }
`,
    );
    const db = freshDb();
    const search = startSearch([file, '--db', db]);
    for (let waited = 0; !(existsSync(pidFile) && readFileSync(pidFile, 'utf8')); waited += 50) {
      assert.ok(waited < 60_000, `the trial never started its worker:\n${search.output().stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const worker = Number(readFileSync(pidFile, 'utf8'));
    process.kill(-search.child.pid!, signal);
    assert.equal(await search.exit, 0, search.output().stderr);
    for (let waited = 0; alive(worker) && waited < 7000; waited += 100) await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(alive(worker), false, `the trial's grandchild ${worker} outlived the search`);
    const { run, trials } = checkDatabase(db);
    assert.equal(run.status, 'stopped');
    assert.deepEqual(
      trials.map((trial) => trial.status),
      ['interrupted'],
    );
  });
}
