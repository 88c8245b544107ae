// Training speed of child nets, side by side in one run, each net in a process of its own per backend. On the CPU,
// as images per CPU-second: NAS Studio on wasm, NAS Studio on cpu, the native convolution prototype on cpu and on
// wasm (bench/native-conv, built by `npm run bench:native-build`), and PyTorch with one thread
// (bench/training_torch.py). On the GPU, as images per wall-second: NAS Studio on webgpu and PyTorch on CUDA.
// Then the main job (the README's `npm run search`, 30 trials) on cpu, wasm and webgpu with the same seed.
//   npm run bench:training            (BENCH_TRAINING_SECONDS: seconds per net and backend, default 4;
//                                      BENCH_BACKENDS=webgpu,wasm runs only those of wasm, cpu, cpu+native,
//                                      wasm+native and webgpu (default all); PyTorch runs beside wasm on the CPU
//                                      and beside webgpu on CUDA;
//                                      BENCH_NETS=0,3 runs only those nets (their places in training-nets.ts),
//                                      BENCH_NETS=none none of them;
//                                      BENCH_MAIN_JOB=0 skips the main job, which takes minutes on cpu;
//                                      BENCH_MAIN_JOB_TRIALS=N cuts it to N trials)

import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { BENCH_NETS } from './training-nets.ts';
import type { OpTime } from './conv-op-timing.ts';
import { printConvOpTable, type ConvOpRow } from './training-ops.ts';

const ROOT = join(__dirname, '..');
const TORCH_SCRIPT = join(__dirname, 'training_torch.py');
const PYTHONS = ['python3', '/usr/bin/python3'];
const SECONDS = Number(process.env.BENCH_TRAINING_SECONDS ?? 4);
/** The issue's ratios to PyTorch, the same for wasm against PyTorch on the CPU and webgpu against PyTorch on CUDA. */
const TARGET_VS_TORCH = 0.3;
const TARGET_MOONSHOT = 0.5;
const TARGET_OF_SGEMM = 0.2;
const TARGET_MAIN_JOB = 3;
const TARGET_GPU_VS_WASM = 10;
/** The native prototype's convolutions on the cpu backend (as the issue asks) and on wasm (tensors read in place). */
const NATIVE_VARIANTS = [
  { backend: 'cpu+native', short: 'c+n' },
  { backend: 'wasm+native', short: 'w+n' },
] as const;
const CPU_BACKENDS = ['wasm', 'cpu', ...NATIVE_VARIANTS.map((v) => v.backend)];
const ALL_BACKENDS = [...CPU_BACKENDS, 'webgpu'];
const MAIN_JOB_BACKENDS = ['cpu', 'wasm', 'webgpu'];
const MAIN_JOB_TRIALS = 30;
const SOFTWARE_ADAPTER = 'software adapter: correctness only, not a speed figure';
const MEMORY_LIMIT_MIB = 1024;
/** A training step costs about three forward passes: the forward, the input gradient and the weight gradient. */
const TRAINING_FLOPS_PER_FORWARD = 3;

export interface ChildResult {
  backend: string;
  detail: string;
  imagesPerCpuSecond: number;
  imagesPerSecond: number;
  /** The last step's; null when it was not a number. */
  loss: number | null;
  forwardFlops: number;
  params: number;
  peakRssMiB: number;
  /** Not on webgpu: a GPU kernel's call only queues its work. */
  convOps?: Record<string, OpTime>;
  profiledCpuSeconds: number;
  nativeCheck?: string;
}

interface TorchResult {
  imagesPerCpuSecond: number;
  imagesPerSecond: number;
  params: number;
  torch: string;
  device: string;
}

/** One side's run of one net: its result (with its JSON line, describing the model), why it was skipped or failed; empty when not run. */
interface Run<Result> {
  result?: Result;
  json?: string;
  skipped?: string;
  error?: string;
}

/** Where webgpu starts (bench/webgpu-probe.ts), or why it does not. */
type WebGpuProbe = { adapter: string; software: boolean } | { skipped: string };

/** What BENCH_BACKENDS and BENCH_NETS ask for: every backend and net by default. */
interface Selection {
  backends: ReadonlySet<string>;
  /** Places in BENCH_NETS. */
  nets: readonly number[];
}

function readSelection(): Selection {
  const listed = process.env.BENCH_BACKENDS?.split(',').map((name) => name.trim());
  const unknown = listed?.filter((name) => !ALL_BACKENDS.includes(name)) ?? [];
  if (unknown.length) throw new Error(`BENCH_BACKENDS: unknown ${unknown.join(', ')}; choose from ${ALL_BACKENDS.join(', ')}`);
  const netsListed = process.env.BENCH_NETS;
  const nets = netsListed === undefined ? BENCH_NETS.map((_, i) => i) : netsListed === 'none' ? [] : netsListed.split(',').map(Number);
  const outside = nets.filter((i) => !Number.isInteger(i) || i < 0 || i >= BENCH_NETS.length);
  if (outside.length) throw new Error(`BENCH_NETS: "${netsListed}" is not "none" or places from 0 to ${BENCH_NETS.length - 1}`);
  return { backends: new Set(listed ?? ALL_BACKENDS), nets };
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

/** A bench script beside this one, run as this one is: by tsx from bench/, or as a bundle (bench/gpu/pack.sh). */
function runScript(script: string, args: string[]): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [...process.execArgv, join(__dirname, `${script}${extname(__filename)}`), ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, BENCH_TRAINING_SECONDS: String(SECONDS) },
    maxBuffer: 64 * 1024 * 1024,
  });
}

/** The last line of a run's output as JSON: a result or {skipped}; else the end of its errors. */
function parseRun<Result>(run: SpawnSyncReturns<string>, errorLines: number): Run<Result> {
  const line = run.stdout.trim().split('\n').at(-1) ?? '';
  if (run.status !== 0 || !line.startsWith('{')) return { error: run.stderr.trim().split('\n').slice(-errorLines).join(' ') };
  const parsed = JSON.parse(line) as Result | { skipped: string };
  return parsed !== null && typeof parsed === 'object' && 'skipped' in parsed
    ? { skipped: parsed.skipped }
    : { result: parsed, json: line };
}

function runChild(selection: Selection, net: number, backend: string): Run<ChildResult> {
  return selection.backends.has(backend) ? parseRun(runScript('training-child', [String(net), backend]), 3) : {};
}

function probeWebGpu(): WebGpuProbe {
  const probe = parseRun<{ adapter: string; software: boolean }>(runScript('webgpu-probe', []), 3);
  return probe.result ?? { skipped: probe.skipped ?? `the probe failed: ${probe.error}` };
}

function runTorch(python: string, description: string, device: 'cpu' | 'cuda'): Run<TorchResult> {
  return parseRun(spawnSync(python, [TORCH_SCRIPT, 'net', String(SECONDS), device], { input: description, encoding: 'utf8' }), 2);
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

/** A run's figure; else 'skipped' or 'failed' (said below the row), or '-' when it was not run. */
function figureCell<Result>(run: Run<Result>, figure: (result: Result) => number): string {
  if (run.result) return fixed(figure(run.result));
  if (run.skipped !== undefined) return 'skipped';
  return run.error === undefined ? '-' : 'failed';
}

function printRunNote(label: string, run: Run<unknown>): void {
  if (run.skipped !== undefined) console.log(`  ${label} skipped: ${run.skipped}`);
  else if (run.error !== undefined) console.log(`  ${label} failed: ${run.error}`);
}

type TorchPython = { python: string } | { why: string };

/** The CPU table; returns the wasm runs, which the GPU table compares against. */
function cpuBench(selection: Selection, torchPython: TorchPython): Map<number, Run<ChildResult>> {
  const sgemm = measureSgemm();
  const sgemmGflops = typeof sgemm === 'number' ? sgemm : undefined;
  console.log(typeof sgemm === 'number' ? `sgemm, one core (numpy, 1024^3): ${fixed(sgemm, 1)} GFLOP/s` : `sgemm not measured: ${sgemm}`);
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
  const wasmRuns = new Map<number, Run<ChildResult>>();
  for (const i of selection.nets) {
    const net = BENCH_NETS[i];
    const wasm = runChild(selection, i, 'wasm');
    const cpu = runChild(selection, i, 'cpu');
    const natives = NATIVE_VARIANTS.map((v) => runChild(selection, i, v.backend));
    const torch = 'python' in torchPython && wasm.json ? runTorch(torchPython.python, wasm.json, 'cpu') : {};
    const w = wasm.result;
    const c = cpu.result;
    const t = torch.result;
    const gflops = w ? (TRAINING_FLOPS_PER_FORWARD * w.forwardFlops * w.imagesPerCpuSecond) / 1e9 : undefined;
    const vsTorch = w && t ? w.imagesPerCpuSecond / t.imagesPerCpuSecond : undefined;
    const ofSgemm = gflops !== undefined && sgemmGflops ? gflops / sgemmGflops : undefined;
    const perCpuSecond = (r: { imagesPerCpuSecond: number }): number => r.imagesPerCpuSecond;
    console.log(
      pad(
        [
          net.name,
          w ? fixed(w.params) : '-',
          w ? fixed(w.forwardFlops / 1e6, 2) : '-',
          figureCell(wasm, perCpuSecond),
          figureCell(cpu, perCpuSecond),
          figureCell(torch, perCpuSecond),
          w && c ? `${fixed(w.imagesPerCpuSecond / c.imagesPerCpuSecond, 1)}x` : '-',
          vsTorch !== undefined ? `${fixed(vsTorch, 2)}x ${verdict(vsTorch, TARGET_VS_TORCH)}` : '-',
          gflops !== undefined ? fixed(gflops, 1) : '-',
          ofSgemm !== undefined ? `${fixed(ofSgemm * 100)}%` : '-',
          w ? `${fixed(w.peakRssMiB)}M` : '-',
          ...natives.flatMap((native) => {
            const n = native.result;
            return [
              figureCell(native, perCpuSecond),
              n && t ? `${fixed(n.imagesPerCpuSecond / t.imagesPerCpuSecond, 2)}x` : '-',
              n && w ? `${fixed(n.imagesPerCpuSecond / w.imagesPerCpuSecond, 1)}x` : '-',
            ];
          }),
        ],
        widths,
      ),
    );
    printRunNote('wasm', wasm);
    printRunNote('cpu', cpu);
    natives.forEach((native, k) => {
      const label = `${NATIVE_VARIANTS[k].backend} (prototype)`;
      printRunNote(label, native);
      if (native.result?.nativeCheck) nativeNotes.add(`${label}: ${native.result.nativeCheck}`);
    });
    const [cpuNative, wasmNative] = natives.map((n) => n.result);
    opRows.push({
      net: net.name,
      wasm: w?.convOps,
      native: (wasmNative ?? cpuNative)?.convOps,
      steps: [w, wasmNative, cpuNative].map((r) => r?.convOps && { seconds: r.profiledCpuSeconds, conv: r.convOps }),
    });
    printRunNote('PyTorch', torch);
    if (t && w && t.params !== w.params) console.log(`  PyTorch has ${t.params} parameters (tfjs ${w.params})`);
    if (w && net.inputShape[2] === 3) memory.push(`${net.name} ${fixed(w.peakRssMiB)} MiB`);
    wasmRuns.set(i, wasm);
  }
  console.log(
    `\ntargets: wasm >= ${TARGET_VS_TORCH}x PyTorch on every net; training >= ${TARGET_OF_SGEMM * 100}% of sgemm;` +
      ` wasm trainer peak RSS on the CIFAR-shaped children < ${MEMORY_LIMIT_MIB} MiB: ${memory.join(', ')}`,
  );
  console.log(`moonshot (prototype columns): >= ${TARGET_MOONSHOT}x PyTorch on every net`);
  for (const note of nativeNotes) console.log(note);
  printConvOpTable(opRows, sgemmGflops);
  return wasmRuns;
}

/** webgpu against PyTorch on CUDA and against wasm, net by net; PyTorch on CUDA runs even where webgpu cannot. */
function gpuBench(selection: Selection, webgpu: WebGpuProbe, torchPython: TorchPython, wasmRuns: Map<number, Run<ChildResult>>): void {
  console.log(`\nGPU: images per wall-second, batch 64, Adam, the loss read every step; wasm: images per CPU-second of one trainer`);
  if ('skipped' in webgpu) console.log(`webgpu skipped: ${webgpu.skipped}`);
  else console.log(`webgpu: ${webgpu.adapter}${webgpu.software ? `\n  ${SOFTWARE_ADAPTER} (its figures are marked 'sw')` : ''}`);
  if ('why' in torchPython) console.log(`PyTorch on CUDA skipped: no Python imports torch (${torchPython.why})`);
  const widths = [22, 10, 10, 13, 8, 13];
  console.log(pad(['net', 'webgpu', 'torch cuda', 'webgpu/cuda', 'wasm', 'webgpu/wasm'], widths));
  const software = 'software' in webgpu && webgpu.software;
  // A GPU adapter's ratio, with its verdict; a software adapter's ratio is no speed figure.
  const ratio = (value: number, target: number): string => (software ? 'sw' : `${fixed(value, 2)}x ${verdict(value, target)}`);
  let cudaSkipped: string | undefined;
  let cudaDevice: string | undefined;
  for (const i of selection.nets) {
    const gpu = 'adapter' in webgpu ? runChild(selection, i, 'webgpu') : {};
    const description = gpu.json ?? wasmRuns.get(i)?.json;
    // One skip says it for every net: CUDA is there or not.
    const cuda: Run<TorchResult> =
      cudaSkipped !== undefined
        ? { skipped: cudaSkipped }
        : 'python' in torchPython && description
          ? runTorch(torchPython.python, description, 'cuda')
          : {};
    cudaSkipped = cuda.skipped;
    const g = gpu.result;
    const c = cuda.result;
    const w = wasmRuns.get(i)?.result;
    const perSecond = (r: { imagesPerSecond: number }): number => r.imagesPerSecond;
    console.log(
      pad(
        [
          BENCH_NETS[i].name,
          `${figureCell(gpu, perSecond)}${g && software ? ' sw' : ''}`,
          figureCell(cuda, perSecond),
          g && c ? ratio(g.imagesPerSecond / c.imagesPerSecond, TARGET_VS_TORCH) : '-',
          w ? fixed(w.imagesPerCpuSecond) : '-',
          g && w ? ratio(g.imagesPerSecond / w.imagesPerCpuSecond, TARGET_GPU_VS_WASM) : '-',
        ],
        widths,
      ),
    );
    printRunNote('webgpu', gpu);
    if (g && !Number.isFinite(g.loss)) console.log(`  webgpu's loss is not a number (${g.loss}): the net did not train`);
    if (cuda.skipped === undefined) printRunNote('PyTorch on CUDA', cuda);
    if (c) cudaDevice = `PyTorch ${c.torch} on ${c.device}`;
  }
  if (cudaSkipped !== undefined) console.log(`PyTorch on CUDA skipped: ${cudaSkipped}`);
  if (cudaDevice !== undefined) console.log(cudaDevice);
  console.log(
    `targets on the GPU: webgpu >= ${TARGET_VS_TORCH}x PyTorch on CUDA (moonshot ${TARGET_MOONSHOT}x) and >= ${TARGET_GPU_VS_WASM}x wasm` +
      ` on every net`,
  );
}

function trainingBench(selection: Selection, webgpu: WebGpuProbe | undefined): void {
  const torchPython = findPython('torch');
  if ('why' in torchPython) console.log(`PyTorch skipped: no Python imports torch (${torchPython.why})`);
  const cpuSelected = CPU_BACKENDS.some((backend) => selection.backends.has(backend));
  const wasmRuns = cpuSelected ? cpuBench(selection, torchPython) : new Map<number, Run<ChildResult>>();
  if (webgpu) gpuBench(selection, webgpu, torchPython, wasmRuns);
}

/** Seconds and best validation accuracy of the main job on one backend. */
function mainJob(backend: string, seed: number, trials: string | undefined, folder: string): { seconds: number; best: string } | string {
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
      ...(trials === undefined ? [] : ['--trials', trials]),
    ],
    { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  const seconds = (performance.now() - started) / 1000;
  if (run.status !== 0) return run.stderr.trim().split('\n').slice(-3).join(' ');
  const best = /best architecture \(trial \d+, reward [\d.]+, val_acc ([\d.]+)\)/.exec(run.stdout);
  return { seconds, best: best ? best[1] : 'not printed' };
}

/** Why the main job does not run on webgpu, if it does not: no adapter, or a software one nobody asked for by name. */
function webgpuMainJobSkip(webgpu: WebGpuProbe | undefined): string | undefined {
  if (webgpu === undefined || 'skipped' in webgpu) return webgpu?.skipped;
  if (webgpu.software && process.env.BENCH_BACKENDS === undefined)
    return `${SOFTWARE_ADAPTER}, and slow: name webgpu in BENCH_BACKENDS to run it there anyway`;
  return undefined;
}

function mainJobBench(selection: Selection, webgpu: WebGpuProbe | undefined): void {
  const seed = 1;
  const trials = process.env.BENCH_MAIN_JOB_TRIALS;
  const backends = MAIN_JOB_BACKENDS.filter((backend) => selection.backends.has(backend));
  const folder = mkdtempSync(join(tmpdir(), 'nas-bench-main-job-'));
  try {
    console.log(
      `\nmain job (examples/digits-macro.nas.yaml, ${trials ?? MAIN_JOB_TRIALS} trials, seed ${seed}), ${backends.join(' then ')}:`,
    );
    const results = new Map<string, { seconds: number; best: string }>();
    for (const backend of backends) {
      const skip = backend === 'webgpu' ? webgpuMainJobSkip(webgpu) : undefined;
      const result = skip === undefined ? mainJob(backend, seed, trials, folder) : undefined;
      if (typeof result === 'object') results.set(backend, result);
      console.log(
        result === undefined
          ? `  ${backend}: skipped: ${skip}`
          : typeof result === 'string'
            ? `  ${backend}: failed: ${result}`
            : `  ${backend}: ${fixed(result.seconds, 1)} s, best val_acc ${result.best}`,
      );
    }
    const cpu = results.get('cpu');
    const wasm = results.get('wasm');
    const gpu = results.get('webgpu');
    if (cpu && wasm) {
      const ratio = cpu.seconds / wasm.seconds;
      console.log(`  speed-up wasm vs cpu: ${fixed(ratio, 2)}x (target >= ${TARGET_MAIN_JOB}x: ${verdict(ratio, TARGET_MAIN_JOB)})`);
    }
    if (wasm && gpu) {
      const software = webgpu !== undefined && 'software' in webgpu && webgpu.software;
      console.log(`  speed-up webgpu vs wasm: ${fixed(wasm.seconds / gpu.seconds, 2)}x${software ? ` (${SOFTWARE_ADAPTER})` : ''}`);
    }
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

export function runTrainingBench(): void {
  const selection = readSelection();
  // Probed once, before the nets: whether webgpu starts, and whether its adapter is really the CPU.
  const webgpu = selection.backends.has('webgpu') ? probeWebGpu() : undefined;
  if (selection.nets.length) trainingBench(selection, webgpu);
  if (process.env.BENCH_MAIN_JOB !== '0') mainJobBench(selection, webgpu);
}

if (require.main === module) runTrainingBench();
