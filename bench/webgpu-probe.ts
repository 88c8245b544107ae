// Whether the webgpu backend starts here, and on what adapter, for bench/training.ts: one JSON line,
// {"adapter": detail, "software": boolean} or {"skipped": why}. Its check refuses a CPU fallback adapter that a
// start by name accepts, so "checked unusable but started" is a software adapter.

import { webgpuBackendKind } from '../src/engine/backends/webgpu.ts';

async function main(): Promise<void> {
  const check = await webgpuBackendKind.check();
  const start = await webgpuBackendKind.start('named');
  if (!start.started) return console.log(JSON.stringify({ skipped: [check.detail, check.hint].filter(Boolean).join('; ') }));
  console.log(JSON.stringify({ adapter: start.detail, software: !check.usable }));
}

// Exits explicitly: Dawn keeps Node alive.
main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
