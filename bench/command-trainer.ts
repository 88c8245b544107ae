// The command evaluator's cost: (a) the search of examples/digits-macro.nas.yaml with each child trained by
// the reference PyTorch trainer (examples/pytorch/train.py) against the built-in tfjs trainer, same file,
// same seeds (REINFORCE then samples from what each trainer's rewards taught it); (b) the per-trial
// overhead of the command path, with trial programs that only report a final line: in Node (no Python
// start-up in the figure) and in Python (its start-up shown beside, measured on its own).
// NAS_BENCH_COMMAND_TRIALS sets (a)'s trials (default 4); the PyTorch parts skip, with the reason, without torch.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CommandEvaluator } from '../src/engine/evaluators/command.ts';
import type { EvaluationRequest } from '../src/engine/evaluators/evaluator.ts';
import { createRunFromFile, runSearch } from '../src/engine/search.ts';
import { Store } from '../src/engine/store/store.ts';
import type { SearchConfig } from '../src/space/config.ts';
import { compileSpace, decodeArchitecture } from '../src/space/graph.ts';
import { parseSearchText } from '../src/space/parse.ts';

const ROOT = join(__dirname, '..');
const SEARCH_FILE = join(ROOT, 'examples', 'digits-macro.nas.yaml');
const TRIALS = Number(process.env.NAS_BENCH_COMMAND_TRIALS) || 4;
const OVERHEAD_TRIALS = 20;
const FINAL_LINE = JSON.stringify({ final: true, val_accuracy: 0.5 });

function torchPython(): string | undefined {
  return ['python3', '/usr/bin/python3'].find((candidate) => spawnSync(candidate, ['-c', 'import torch, numpy']).status === 0);
}

/** The example's search with `trials` trials, and, given one, the reference PyTorch trainer as its evaluation. */
async function searchOnce(dir: string, name: string, python?: string) {
  let text = readFileSync(SEARCH_FILE, 'utf8').replace(/budget: \{ trials: \d+ \}/, `budget: { trials: ${TRIALS} }`);
  if (python) {
    const command = JSON.stringify([python, join(ROOT, 'examples', 'pytorch', 'train.py')]);
    text = text.replace(/^evaluation: .*$/m, `evaluation: { kind: command, command: ${command}, epochs: 3 }`);
  }
  const file = join(dir, `${name}.nas.yaml`);
  writeFileSync(file, text);
  const store = new Store(join(dir, `${name}.db`));
  const run = createRunFromFile(store, file, {});
  const started = performance.now();
  await runSearch(store, run, { onEvent: () => {} });
  const seconds = (performance.now() - started) / 1000;
  const trials = store.listTrials(run);
  const best = Math.max(...trials.map((trial) => trial.metrics?.valAccuracy ?? 0));
  store.close();
  const done = trials.filter((trial) => trial.status === 'done').length;
  console.log(
    `command_trainer trainer=${name} trials=${TRIALS} done=${done} wall_s=${seconds.toFixed(1)} ` +
      `s_per_trial=${(seconds / TRIALS).toFixed(2)} best_val_accuracy=${best.toFixed(4)}`,
  );
}

/** Mean milliseconds per trial of `command`, run one after the other through the command evaluator. */
async function msPerTrial(command: string[]): Promise<number> {
  const parsed = parseSearchText(readFileSync(SEARCH_FILE, 'utf8'), SEARCH_FILE).config as SearchConfig;
  const space = parsed.space;
  const architecture = compileSpace(space).map(() => 0);
  const request: EvaluationRequest = { architecture, graph: decodeArchitecture(space, architecture), space, seed: 1 };
  const evaluator = new CommandEvaluator({ kind: 'command', command, epochs: 1, timeout_minutes: 1, env: {} }, parsed, ROOT, []);
  await evaluator.evaluate(request, () => {}); // warm the file cache
  const started = performance.now();
  for (let i = 0; i < OVERHEAD_TRIALS; i++) await evaluator.evaluate(request, () => {});
  return (performance.now() - started) / OVERHEAD_TRIALS;
}

/** Mean milliseconds of a bare start and exit of `program args`. */
function startupMs(program: string, args: string[]): number {
  spawnSync(program, args);
  const started = performance.now();
  for (let i = 0; i < OVERHEAD_TRIALS; i++) spawnSync(program, args);
  return (performance.now() - started) / OVERHEAD_TRIALS;
}

export async function runCommandTrainerBench(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'nas-bench-command-'));
  try {
    const nodeTrial = join(dir, 'final.js');
    writeFileSync(nodeTrial, `require('fs').writeSync(3, ${JSON.stringify(FINAL_LINE + '\n')});\n`);
    const nodeMs = msPerTrial([process.execPath, nodeTrial]);
    const nodeStartup = startupMs(process.execPath, ['-e', '0']);
    console.log(
      `command_overhead program=node ms_per_trial=${(await nodeMs).toFixed(1)} node_startup_ms=${nodeStartup.toFixed(1)} ` +
        `beyond_startup_ms=${((await nodeMs) - nodeStartup).toFixed(1)} (target < 150 ms beyond the program's start-up)`,
    );
    const python = ['python3', '/usr/bin/python3'].find((candidate) => spawnSync(candidate, ['-c', 'pass']).status === 0);
    if (python) {
      const script = join(dir, 'final.py');
      writeFileSync(
        script,
        `import os\nos.write(int(os.environ["NAS_STUDIO_REPORT_FD"]), ${JSON.stringify(FINAL_LINE + '\n')}.encode())\n`,
      );
      const pythonMs = await msPerTrial([python, script]);
      const pythonStartup = startupMs(python, ['-c', 'pass']);
      console.log(
        `command_overhead program=${python} ms_per_trial=${pythonMs.toFixed(1)} python_startup_ms=${pythonStartup.toFixed(1)} ` +
          `beyond_startup_ms=${(pythonMs - pythonStartup).toFixed(1)}`,
      );
    } else console.log('command_overhead program=python skipped: no python3 and no /usr/bin/python3');

    const withTorch = torchPython();
    if (withTorch) {
      const importMs = startupMs(withTorch, ['-c', 'import torch']);
      console.log(`command_overhead python_import_torch_ms=${importMs.toFixed(0)} (${withTorch}; paid by every PyTorch trial)`);
    }
    await searchOnce(dir, 'tfjs');
    if (withTorch) await searchOnce(dir, 'pytorch', withTorch);
    else console.log('command_trainer trainer=pytorch skipped: neither python3 nor /usr/bin/python3 imports torch and numpy');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) void runCommandTrainerBench();
