// A fresh folder per test case under one temporary root, removed when the test file ends.
import { after } from 'node:test';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function freshDirs(prefix: string): () => string {
  const root = mkdtempSync(join(tmpdir(), prefix));
  after(() => rmSync(root, { recursive: true, force: true }));
  let counter = 0;
  return () => {
    const dir = join(root, `case-${counter++}`);
    mkdirSync(dir);
    return dir;
  };
}
