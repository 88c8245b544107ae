// Signals to a CLI search: each stops it cleanly (run stopped, children in training interrupted,
// not failed), and resume then completes the budget.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tinySearchFile } from '../support/tiny.ts';
import { checkDatabase, freshDb, resumeToBudget, startSearch } from './support.ts';

const TRIALS = 6;

async function stopWith(send: (pid: number) => void | Promise<void>): Promise<{ stdout: string; stderr: string; db: string }> {
  const db = freshDb();
  const search = startSearch([tinySearchFile({ trials: TRIALS }), '--db', db]);
  await search.seen(/trial 1\/6/);
  await send(search.child.pid!);
  const code = await search.exit;
  const output = search.output();
  assert.equal(code, 0, output.stderr);
  assert.match(output.stdout, /: stopped, \d+\/6 trials/);
  const { run, trials } = checkDatabase(db);
  assert.equal(run.status, 'stopped');
  assert.ok(
    trials.every((t) => t.status === 'done' || t.status === 'interrupted'),
    trials.map((t) => `${t.idx}:${t.status}`).join(' '),
  );
  resumeToBudget(db);
  return { ...output, db };
}

// A negative pid signals the whole process group, as a terminal, systemd, Slurm or `timeout` do.
for (const [name, signal, target] of [
  ['SIGTERM to the engine', 'SIGTERM', 1],
  ['SIGTERM to the whole process group (systemd, Slurm, timeout)', 'SIGTERM', -1],
  ['SIGHUP to the whole process group (a closed terminal)', 'SIGHUP', -1],
  ['SIGINT to the whole process group (Ctrl-C)', 'SIGINT', -1],
] as const) {
  test(`${name} stops the search cleanly; resume completes it`, { timeout: 240_000 }, async () => {
    await stopWith((pid) => {
      process.kill(target * pid, signal);
    });
  });
}

test('a second Ctrl-C while stopping is ignored, and says a third kills', { timeout: 240_000 }, async () => {
  const { stderr } = await stopWith(async (pid) => {
    process.kill(-pid, 'SIGINT');
    await new Promise((resolve) => setTimeout(resolve, 20));
    process.kill(-pid, 'SIGINT');
  });
  assert.match(stderr, /a third Ctrl-C kills/);
});
