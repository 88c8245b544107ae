// NAS Studio's helper for training code in Node (evaluation kind `command`), the twin of nas_studio.py.
// No dependencies: import it from the extension's `helpers` folder or copy it next to your trainer.
//
//   import { trial as nasStudioTrial } from './nas-studio.mjs';
//   const trial = nasStudioTrial();
//   for (let epoch = 1; epoch <= trial.epochs; epoch++) {
//     // … train one epoch …
//     if (trial.report({ epoch, val_accuracy: accuracy, train_loss: loss })) break; // pruned by the scheduler
//   }
//   trial.finish({ val_accuracy: accuracy, test_accuracy: testAccuracy, params });
//
// Reports go to NAS Studio on a channel of their own (the file descriptor in NAS_STUDIO_REPORT_FD), so
// whatever the program prints stays its log. NAS Studio answers each epoch's report on the same channel;
// a trial that is told to stop and goes on is ended with SIGTERM after a grace period.
import { readFileSync, readSync, writeSync } from 'node:fs';

/** One line from `fd`, read a byte at a time so nothing after it is taken; '' at the end of the channel. */
function readLine(fd) {
  const byte = Buffer.alloc(1);
  const bytes = [];
  for (;;) {
    let count;
    try {
      count = readSync(fd, byte, 0, 1, null);
    } catch (error) {
      // A descriptor left non-blocking has nothing yet: wait a moment, synchronously.
      if (error.code !== 'EAGAIN') throw error;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
      continue;
    }
    if (count === 0 || byte[0] === 0x0a) return Buffer.from(bytes).toString('utf8');
    bytes.push(byte[0]);
  }
}

/** The trial NAS Studio started this program for (it throws outside a NAS Studio search). */
export function trial() {
  const path = process.env.NAS_STUDIO_TRIAL;
  const descriptor = process.env.NAS_STUDIO_REPORT_FD;
  if (!path || !descriptor) throw new Error('not started by NAS Studio: NAS_STUDIO_TRIAL and NAS_STUDIO_REPORT_FD are not set');
  const spec = JSON.parse(readFileSync(path, 'utf8'));
  const send = (values) => {
    if (!('val_accuracy' in values)) throw new Error('NAS Studio needs val_accuracy in every report');
    for (const [key, value] of Object.entries(values))
      if (key !== 'final' && !(typeof value === 'number' && Number.isFinite(value)))
        throw new Error(`${key} must be a finite number, got ${String(value)}`);
    writeSync(Number(descriptor), `${JSON.stringify(values)}\n`);
  };
  return {
    run: spec.run,
    index: spec.trial,
    seed: spec.seed,
    architecture: spec.decisions,
    graph: spec.graph,
    space: spec.space,
    dataset: spec.dataset,
    epochs: spec.epochs,
    /**
     * One epoch's numbers: val_accuracy (required), train_loss, val_loss, train_accuracy, and any others.
     * Returns true when the search's scheduler stopped the trial (it is pruned): stop training then.
     */
    report: (metrics) => {
      send(metrics);
      const answer = readLine(Number(descriptor));
      return answer !== '' && JSON.parse(answer).stop === true;
    },
    /** The result: val_accuracy (the reward's metric, required), test_accuracy, params, flops. */
    finish: (metrics) => send({ ...metrics, final: true }),
  };
}
