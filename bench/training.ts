// Training speed of child nets, side by side in one run: NAS Studio on wasm, NAS Studio on cpu, the native
// convolution prototype on cpu and on wasm (bench/native-conv, built by `npm run bench:native-build`), and PyTorch
// on the CPU with one thread (bench/training_torch.py), each net in a process of its own per backend.
// Then the main job (the README's `npm run search`, 30 trials) on cpu and on wasm with the same seed.
//   npm run bench:training            (BENCH_TRAINING_SECONDS: CPU seconds per net and backend, default 4;
//                                      BENCH_MAIN_JOB=0 skips the main job, which takes minutes on cpu)

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BENCH_NETS } from './training-nets.ts';
import type { OpTime } from './conv-op-timing.ts';
import { printConvOpTable, type ConvOpRow } from './training-ops.ts';

const ROOT = join(__dirname, '..');
const TORCH_SCRIPT = join(__dirname, 'training_torch.py');
const PYTHONS = ['python3', '/usr/bin/python3'];
const SECONDS = Number(process.env.BENCH_TRAINING_SECONDS ?? 4);
const TARGET_VS_TORCH = 0.3;
const TARGET_OF_SGEMM = 0.2;
const TARGET_MAIN_JOB = 3;
const TARGET_MOONSHOT = 0.5;
/** The native prototype's convolutions on the cpu backend (as the issue asks) and on wasm (tensors read in place). */
const NATIVE_VARIANTS = [
  { backend: 'cpu+native', short: 'c+n' },
  { backend: 'wasm+native', short: 'w+n' },
] as const;
const MEMORY_LIMIT_MIB = 1024;
/** A training step costs about three forward passes: the forward, the input gradient and the weight gradient. */
const TRAINING_FLOPS_PER_FORWARD = 3;

export interface ChildResult {
  backend: string;
  detail: string;
  imagesPerCpuSecond: number;
  imagesPerSecond: number;
  forwardFlops: number;
  params: number;
  peakRssMiB: number;
  convOps: Record<string, OpTime>;
  profiledCpuSeconds: number;
  nativeCheck?: string;
}

interface TorchResult {
  imagesPerCpuSecond: number;
  params: number;
  torch: string;
}

/** The first Python that imports the module, or why none does. */
function findPython(module: string): { python: string } | { why: string } {
  const tried: string[] = [];
  for (const python of PYTHONS) {
    const check = spawnSync(python, ['-c', `import ${module}`], { encoding: 'utf8' });
    if (check.status === 0) return { python };
    tried.push(`${python}: ${check.error ? check.error.message : (check.stderr.trim().split('\n').at(-1) ?? `exit ${check.status}`)}`);
  }
  return { why: tried.join('; ') };
}

function runChild(net: number, backend: string): { result?: ChildResult; json?: string; error?: string; skipped?: string } {
  const run = spawnSync(process.execPath, ['--import', 'tsx', join(__dirname, 'training-child.ts'), String(net), backend], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, BENCH_TRAINING_SECONDS: String(SECONDS) },
    maxBuffer: 64 * 1024 * 1024,
  });
  const line = run.stdout.trim().split('\n').at(-1) ?? '';
  if (run.status !== 0 || !line.startsWith('{')) return { error: run.stderr.trim().split('\n').slice(-3).join(' ') };
  const parsed = JSON.parse(line) as ChildResult | { skipped: string };
  return 'skipped' in parsed ? { skipped: parsed.skipped } : { result: parsed, json: line };
}

function runTorch(python: string, description: string): TorchResult | string {
  const run = spawnSync(python, [TORCH_SCRIPT, 'net', String(SECONDS)], { input: description, encoding: 'utf8' });
  const line = run.stdout.trim().split('\n').at(-1) ?? '';
  if (run.status !== 0 || !line.startsWith('{')) return run.stderr.trim().split('\n').slice(-2).join(' ');
  return JSON.parse(line) as TorchResult;
}

function measureSgemm(): number | string {
  const found = findPython('numpy');
  if ('why' in found) return `no Python imports numpy (${found.why})`;
  const run = spawnSync(found.python, [TORCH_SCRIPT, 'sgemm'], { encoding: 'utf8' });
  const parsed = JSON.parse(run.stdout.trim() || '{}') as { gflops?: number; skipped?: string };
  return parsed.gflops ?? parsed.skipped ?? run.stderr.trim();
}

const fixed = (value: number, digits = 0): string => value.toFixed(digits);
const pad = (cells: string[], widths: number[]): string => cells.map((c, i) => c.padEnd(widths[i])).join('  ');
const verdict = (value: number, target: number): string => (value >= target ? 'meets' : 'short');

function trainingBench(): void {
  const sgemm = measureSgemm();
  const sgemmGflops = typeof sgemm === 'number' ? sgemm : undefined;
  console.log(typeof sgemm === 'number' ? `sgemm, one core (numpy, 1024^3): ${fixed(sgemm, 1)} GFLOP/s` : `sgemm not measured: ${sgemm}`);
  const torchPython = findPython('torch');
  if ('why' in torchPython) console.log(`PyTorch skipped: no Python imports torch (${torchPython.why})`);
  console.log(`images per CPU-second, batch 64, Adam, one thread per process; training GFLOP/s = 3 x forward FLOPs x images/s\n`);
  const widths = [22, 8, 10, 8, 8, 8, 9, 10, 10, 9, 9, ...NATIVE_VARIANTS.flatMap(() => [11, 9, 8])];
  console.log(
    pad(
      [
        'net',
        'params',
        'fwd MFLOP',
        'wasm',
        'cpu',
        'torch',
        'wasm/cpu',
        'wasm/torch',
        'wasm GF/s',
        'of sgemm',
        'wasm RSS',
        ...NATIVE_VARIANTS.flatMap((v) => [v.backend, `${v.short}/torch`, `${v.short}/wasm`]),
      ],
      widths,
    ),
  );
  const memory: string[] = [];
  const opRows: ConvOpRow[] = [];
  const nativeNotes = new Set<string>();
  BENCH_NETS.forEach((net, i) => {
    const wasm = runChild(i, 'wasm');
    const cpu = runChild(i, 'cpu');
    const natives = NATIVE_VARIANTS.map((v) => runChild(i, v.backend));
    const torch = 'python' in torchPython && wasm.json ? runTorch(torchPython.python, wasm.json) : 'skipped';
    const w = wasm.result;
    const c = cpu.result;
    const t = typeof torch === 'string' ? undefined : torch;
    const gflops = w ? (TRAINING_FLOPS_PER_FORWARD * w.forwardFlops * w.imagesPerCpuSecond) / 1e9 : undefined;
    const vsTorch = w && t ? w.imagesPerCpuSecond / t.imagesPerCpuSecond : undefined;
    const ofSgemm = gflops !== undefined && sgemmGflops ? gflops / sgemmGflops : undefined;
    console.log(
      pad(
        [
          net.name,
          w ? fixed(w.params) : '-',
          w ? fixed(w.forwardFlops / 1e6, 2) : '-',
          w ? fixed(w.imagesPerCpuSecond) : 'failed',
          c ? fixed(c.imagesPerCpuSecond) : 'failed',
          t ? fixed(t.imagesPerCpuSecond) : '-',
          w && c ? `${fixed(w.imagesPerCpuSecond / c.imagesPerCpuSecond, 1)}x` : '-',
          vsTorch !== undefined ? `${fixed(vsTorch, 2)}x ${verdict(vsTorch, TARGET_VS_TORCH)}` : '-',
          gflops !== undefined ? fixed(gflops, 1) : '-',
          ofSgemm !== undefined ? `${fixed(ofSgemm * 100)}%` : '-',
          w ? `${fixed(w.peakRssMiB)}M` : '-',
          ...natives.flatMap(({ result: n, skipped }) => [
            n ? fixed(n.imagesPerCpuSecond) : skipped !== undefined ? 'skipped' : 'failed',
            n && t ? `${fixed(n.imagesPerCpuSecond / t.imagesPerCpuSecond, 2)}x` : '-',
            n && w ? `${fixed(n.imagesPerCpuSecond / w.imagesPerCpuSecond, 1)}x` : '-',
          ]),
        ],
        widths,
      ),
    );
    if (!w) console.log(`  wasm failed: ${wasm.error}`);
    if (!c) console.log(`  cpu failed: ${cpu.error}`);
    natives.forEach(({ result: n, skipped, error }, k) => {
      const label = `${NATIVE_VARIANTS[k].backend} (prototype)`;
      if (skipped !== undefined) console.log(`  ${label} skipped: ${skipped}`);
      else if (!n) console.log(`  ${label} failed: ${error}`);
      if (n?.nativeCheck) nativeNotes.add(`${label}: ${n.nativeCheck}`);
    });
    const [cpuNative, wasmNative] = natives.map((n) => n.result);
    opRows.push({
      net: net.name,
      wasm: w?.convOps,
      native: (wasmNative ?? cpuNative)?.convOps,
      steps: [w, wasmNative, cpuNative].map((r) => r && { seconds: r.profiledCpuSeconds, conv: r.convOps }),
    });
    if (typeof torch === 'string' && torch !== 'skipped') console.log(`  PyTorch failed: ${torch}`);
    if (t && w && t.params !== w.params) console.log(`  PyTorch has ${t.params} parameters (tfjs ${w.params})`);
    if (w && net.inputShape[2] === 3) memory.push(`${net.name} ${fixed(w.peakRssMiB)} MiB`);
  });
  console.log(
    `\ntargets: wasm >= ${TARGET_VS_TORCH}x PyTorch on every net; training >= ${TARGET_OF_SGEMM * 100}% of sgemm;` +
      ` wasm trainer peak RSS on the CIFAR-shaped children < ${MEMORY_LIMIT_MIB} MiB: ${memory.join(', ')}`,
  );
  console.log(`moonshot (prototype columns): >= ${TARGET_MOONSHOT}x PyTorch on every net`);
  for (const note of nativeNotes) console.log(note);
  printConvOpTable(opRows, sgemmGflops);
}

/** Seconds and best validation accuracy of the main job on one backend. */
function mainJob(backend: string, seed: number, folder: string): { seconds: number; best: string } | string {
  const started = performance.now();
  const db = join(folder, `${backend}.db`);
  const run = spawnSync(
    process.execPath,
    [
      join(ROOT, 'dist', 'cli.js'),
      'search',
      join(ROOT, 'examples', 'digits-macro.nas.yaml'),
      '--db',
      db,
      '--backend',
      backend,
      '--seed',
      String(seed),
    ],
    { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  const seconds = (performance.now() - started) / 1000;
  if (run.status !== 0) return run.stderr.trim().split('\n').slice(-3).join(' ');
  const best = /best architecture \(trial \d+, reward [\d.]+, val_acc ([\d.]+)\)/.exec(run.stdout);
  return { seconds, best: best ? best[1] : 'not printed' };
}

function mainJobBench(): void {
  const seed = 1;
  const folder = mkdtempSync(join(tmpdir(), 'nas-bench-main-job-'));
  try {
    console.log(`\nmain job (examples/digits-macro.nas.yaml, 30 trials, seed ${seed}), cpu then wasm:`);
    const cpu = mainJob('cpu', seed, folder);
    const wasm = mainJob('wasm', seed, folder);
    for (const [name, result] of [
      ['cpu', cpu],
      ['wasm', wasm],
    ] as const)
      console.log(
        typeof result === 'string'
          ? `  ${name}: failed: ${result}`
          : `  ${name}: ${fixed(result.seconds, 1)} s, best val_acc ${result.best}`,
      );
    if (typeof cpu !== 'string' && typeof wasm !== 'string') {
      const ratio = cpu.seconds / wasm.seconds;
      console.log(`  speed-up wasm vs cpu: ${fixed(ratio, 2)}x (target >= ${TARGET_MAIN_JOB}x: ${verdict(ratio, TARGET_MAIN_JOB)})`);
    }
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

export function runTrainingBench(): void {
  trainingBench();
  if (process.env.BENCH_MAIN_JOB !== '0') mainJobBench();
}

if (require.main === module) runTrainingBench();
