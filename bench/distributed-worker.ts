// One worker process for bench/distributed.ts: takes trial jobs from the queue, looks each architecture up
// in NAS-Bench-201 and then sleeps a fixed time, a stand-in for training that costs no CPU.
//
//   node --import tsx bench/distributed-worker.ts QUEUE_URL CONCURRENCY SLEEP_MS
//
// Prints one line to stdout, `ready {"cpuMs":N}`, once it takes jobs, and `stopped {"cpuMs":N,"jobs":N}`
// when SIGTERM has closed it, so that the bench counts the CPU it spent on trials, not on starting up.
import { setTimeout as sleep } from 'node:timers/promises';
import type { TrialMeasurements } from '../src/protocol/engine.ts';
import type { EvaluationRequest, Evaluator, StartEvaluator } from '../src/engine/evaluators/evaluator.ts';
import { shippedNasBench201Table } from '../src/engine/data/nas-bench-201.ts';
import { tabularEvaluatorKind } from '../src/engine/evaluators/tabular.ts';
import { startWorker } from '../src/engine/remote/worker.ts';
import { searchValidator } from '../src/space/schema-messages.ts';

const [queueUrl, concurrencyText, sleepMsText] = process.argv.slice(2);
const concurrency = Number(concurrencyText);
const sleepMs = Number(sleepMsText);
if (!queueUrl || !Number.isInteger(concurrency) || concurrency < 1 || !Number.isFinite(sleepMs) || sleepMs < 0) {
  process.stderr.write('usage: distributed-worker.ts QUEUE_URL CONCURRENCY SLEEP_MS\n');
  process.exit(2);
}

const cpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

let jobs = 0;

/** The table lookup, then `sleepMs` of idle waiting. */
class SleepingTabularEvaluator implements Evaluator {
  readonly backend;
  readonly backendDetail;
  readonly size;
  readonly recordedAs;
  constructor(private readonly lookup: Evaluator) {
    this.backend = lookup.backend;
    this.backendDetail = `${lookup.backendDetail}, then ${sleepMs} ms asleep`;
    this.size = concurrency;
    this.recordedAs = lookup.recordedAs;
  }
  async evaluate(request: EvaluationRequest): Promise<TrialMeasurements> {
    const measurements = await this.lookup.evaluate(request, () => undefined);
    if (sleepMs > 0) await sleep(sleepMs);
    jobs += 1;
    return measurements;
  }
  cancelAll(): void {}
  async close(): Promise<void> {}
}

const startEvaluator: StartEvaluator = async (config, baseDir, log, capacity) => {
  if (config.evaluation.kind !== 'tabular')
    throw new Error(`this bench worker evaluates tabular searches only, not ${config.evaluation.kind}`);
  return new SleepingTabularEvaluator(await tabularEvaluatorKind.start(config.evaluation, config, baseDir, log, capacity));
};

void (async () => {
  // Once per process, on its first trial otherwise: the table loads in about 0.4 s and the search file's schema compiles
  // in about 0.5 s. Start-up, which the bench leaves out of its times.
  shippedNasBench201Table();
  searchValidator();
  const worker = await startWorker({
    queueUrl,
    concurrency,
    backend: 'cpu',
    dataRoot: process.cwd(),
    allowCommands: false,
    stallSeconds: 30,
    // Only problems reach the bench's output; the worker's greeting is noise there.
    log: (message) => {
      if (!message.includes('takes trials from the queue')) process.stderr.write(`worker ${process.pid}: ${message}\n`);
    },
    startEvaluator,
  });
  const readyCpuMs = cpuMs();
  process.stdout.write(`ready ${JSON.stringify({ cpuMs: readyCpuMs })}\n`);
  process.once('SIGTERM', () => {
    void worker.close().then(() => {
      process.stdout.write(`stopped ${JSON.stringify({ cpuMs: cpuMs() - readyCpuMs, jobs })}\n`, () => process.exit(0));
    });
  });
})();
