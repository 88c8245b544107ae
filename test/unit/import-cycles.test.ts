import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';

const SCRIPT = 'scripts/check-import-cycles.mjs';
const FIXTURES = 'test/fixtures/import-cycles';

const check = (...folders: string[]) => spawnSync(process.execPath, [SCRIPT, ...folders], { encoding: 'utf8' });

test('a loop of value imports fails the check and prints the cycle', () => {
  const result = check(`${FIXTURES}/cycle`);
  assert.equal(result.status, 1, result.stderr);
  assert.match(result.stderr, /cycle\/a\.ts -> .*cycle\/b\.ts -> .*cycle\/c\.ts -> .*cycle\/a\.ts/);
});

test('imports back that are type-only (import type, { type A }, export type) or commented out make no cycle', () => {
  const result = check(`${FIXTURES}/no-cycle`);
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stdout, /No runtime import cycles/);
});

test('a folder that does not exist is an error naming it', () => {
  const result = check(`${FIXTURES}/missing`);
  assert.equal(result.status, 2);
  assert.match(result.stderr, /no such folder: .*missing/);
});
