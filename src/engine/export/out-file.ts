// Every export writes a new file or folder: what is already at --out is replaced only when the user says so.

import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';

/** Throws when `outFile` exists and `force` is not set; removes it when it is. */
export function clearOutFile(outFile: string, force: boolean | undefined): void {
  if (!existsSync(outFile)) return;
  if (!force) throw new Error(`${outFile} exists; choose another --out, or add --force to replace it`);
  rmSync(outFile);
}

/** Makes `outDir` an empty folder: one with files in it is emptied only when the user says so. */
export function clearOutFolder(outDir: string, force: boolean | undefined): void {
  if (existsSync(outDir) && readdirSync(outDir).length > 0) {
    if (!force) throw new Error(`${outDir} is not empty; choose another --out, or add --force to replace what is in it`);
    rmSync(outDir, { recursive: true });
  }
  mkdirSync(outDir, { recursive: true });
}
