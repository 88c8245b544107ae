// A search file whose evaluation is a command runs that program once per architecture: the first time a
// workspace runs a given command, the user sees it and says yes (Restricted Mode already runs nothing).

import { dirname } from 'node:path';
import * as vscode from 'vscode';
import { parseSearchText } from '../space/parse.ts';

const APPROVED = 'nasStudio.approvedCommands';

/** True when the search runs no command, or runs one this workspace has approved (now or before). */
export async function approveSearchCommand(state: vscode.Memento, file: vscode.Uri): Promise<boolean> {
  const text = new TextDecoder().decode(await vscode.workspace.fs.readFile(file));
  const evaluation = parseSearchText(text, file.fsPath, { checkFiles: false }).config?.evaluation;
  if (evaluation?.kind !== 'command') return true;
  const folder = dirname(file.fsPath);
  const key = JSON.stringify({ folder, command: evaluation.command });
  const approved = state.get<string[]>(APPROVED, []);
  if (approved.includes(key)) return true;
  const answer = await vscode.window.showWarningMessage(
    `This search runs a program of yours for every architecture it tries:\n\n${evaluation.command.join(' ')}\n\nin ${folder}. Run it?`,
    { modal: true },
    'Run',
  );
  if (answer !== 'Run') return false;
  await state.update(APPROVED, [...approved, key]);
  return true;
}
