// Every export writes a new file: one already at --out is replaced only when the user says so.

import { existsSync, rmSync } from 'node:fs';

/** Throws when `outFile` exists and `force` is not set; removes it when it is. */
export function clearOutFile(outFile: string, force: boolean | undefined): void {
  if (!existsSync(outFile)) return;
  if (!force) throw new Error(`${outFile} exists; choose another --out, or add --force to replace it`);
  rmSync(outFile);
}
