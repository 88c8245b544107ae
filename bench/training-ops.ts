// The training bench's second table: GFLOP/s of each dense convolution kernel on wasm and in the native prototype,
// against the sgemm limit, and the share of a training step the three kernels take.

import * as tf from '@tensorflow/tfjs';
import { TIMED_CONV_KERNELS, type OpTime } from './conv-op-timing.ts';

export interface ConvOpRow {
  net: string;
  wasm?: Record<string, OpTime>;
  /** The native kernels, from wasm+native where it ran, else cpu+native. */
  native?: Record<string, OpTime>;
  /** CPU seconds of the profiled steps and of their convolutions, on wasm, wasm+native and cpu+native. */
  steps: Array<{ seconds: number; conv: Record<string, OpTime> } | undefined>;
}

const SHORT_NAMES: Record<string, string> = {
  [tf.Conv2D]: 'fwd',
  [tf.Conv2DBackpropFilter]: 'dW',
  [tf.Conv2DBackpropInput]: 'dX',
};

const gflops = (time: OpTime | undefined): number | undefined => (time && time.seconds > 0 ? time.flops / time.seconds / 1e9 : undefined);

function total(ops: Record<string, OpTime> | undefined): OpTime | undefined {
  if (ops === undefined) return undefined;
  const times = Object.values(ops);
  return {
    calls: times.reduce((sum, t) => sum + t.calls, 0),
    seconds: times.reduce((sum, t) => sum + t.seconds, 0),
    flops: times.reduce((sum, t) => sum + t.flops, 0),
  };
}

const cell = (value: number | undefined, digits = 1): string => (value === undefined ? '-' : value.toFixed(digits));
const percent = (part: number | undefined, whole: number | undefined): string =>
  part === undefined || !whole ? '-' : `${((100 * part) / whole).toFixed(0)}%`;

export function printConvOpTable(rows: ConvOpRow[], sgemmGflops: number | undefined): void {
  const limit = sgemmGflops === undefined ? 'sgemm (not measured)' : `${sgemmGflops.toFixed(1)} GFLOP/s`;
  console.log(
    `\nconvolution kernels, GFLOP/s of CPU time in the profiled steps after the timed ones` +
      ` (wasm / the native prototype, on wasm+native where it ran);` +
      ` 'of sgemm' = the native kernels together over ${limit}; 'conv share' = their part of the step's CPU time` +
      ` on wasm / wasm+native / cpu+native`,
  );
  const widths = [22, 13, 13, 13, 13, 9, 20];
  const header = [
    'net',
    ...TIMED_CONV_KERNELS.map((k) => `${SHORT_NAMES[k]} wasm/nat`),
    'all wasm/nat',
    'of sgemm',
    'conv share w/w+n/c+n',
  ];
  console.log(header.map((c, i) => c.padEnd(widths[i])).join('  '));
  for (const row of rows) {
    const pair = (a: OpTime | undefined, b: OpTime | undefined) => `${cell(gflops(a))} / ${cell(gflops(b))}`;
    const wasmTotal = total(row.wasm);
    const nativeTotal = total(row.native);
    const nativeGflops = gflops(nativeTotal);
    const cells = [
      row.net,
      ...TIMED_CONV_KERNELS.map((k) => pair(row.wasm?.[k], row.native?.[k])),
      pair(wasmTotal, nativeTotal),
      sgemmGflops === undefined ? '-' : percent(nativeGflops, sgemmGflops),
      row.steps.map((step) => (step ? percent(total(step.conv)?.seconds, step.seconds) : '-')).join(' / '),
    ];
    console.log(cells.map((c, i) => c.padEnd(widths[i])).join('  '));
  }
}
