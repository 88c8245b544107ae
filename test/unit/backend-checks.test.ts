// What `nas-studio doctor` reports: every backend's check in auto's order, and the one auto picks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AUTO_ORDER, backendKinds, checkBackends } from '../../src/engine/backend.ts';
import type { BackendCheck } from '../../src/engine/backends/backend-kind.ts';

const answering = (check: BackendCheck) => ({ check: async () => check });

test('every backend is checked once, in auto order; cpu is usable and auto picks the first usable', async () => {
  // webgpu's own check loads Dawn, whose object would keep this test process alive: the CLI test runs it.
  const reports = await checkBackends({ ...backendKinds, webgpu: answering({ usable: false, detail: 'not asked here' }) });
  assert.deepEqual(
    reports.map((report) => report.name),
    AUTO_ORDER,
  );
  assert.equal(reports.find((report) => report.name === 'cpu')?.usable, true);
  const firstUsable = reports.find((report) => report.usable);
  assert.deepEqual(
    reports.filter((report) => report.pickedByAuto).map((report) => report.name),
    [firstUsable?.name],
  );
  for (const report of reports) assert.ok(report.detail.length > 0, `${report.name} says why`);
});

test('a check that throws is not usable and says its message; auto picks the next usable', async () => {
  const reports = await checkBackends({
    'tensorflow-gpu': answering({ usable: false, detail: 'no CUDA', hint: 'install CUDA' }),
    webgpu: {
      check: async () => {
        throw new Error('Dawn crashed');
      },
    },
    tensorflow: answering({ usable: true, detail: 'libtensorflow loads' }),
    wasm: answering({ usable: true, detail: '.wasm from dist' }),
    cpu: answering({ usable: true, detail: 'always there' }),
  });
  const webgpu = reports.find((report) => report.name === 'webgpu');
  assert.equal(webgpu?.usable, false);
  assert.match(webgpu?.detail ?? '', /Dawn crashed/);
  assert.equal(webgpu?.pickedByAuto, false);
  assert.deepEqual(reports[0], { name: 'tensorflow-gpu', usable: false, detail: 'no CUDA', hint: 'install CUDA', pickedByAuto: false });
  assert.deepEqual(
    reports.filter((report) => report.pickedByAuto).map((report) => report.name),
    ['tensorflow'],
  );
});
