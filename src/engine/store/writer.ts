// The writer claim: which process writes a run, and whether a recorded writer may still be alive.

import type Database from 'better-sqlite3';
import { readFileSync, readlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import type { Row } from './rows.ts';

/** A process's start time in clock ticks since boot (field 22 of /proc/PID/stat), where /proc exists. */
function processStartTime(pid: number | 'self'): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count fields after its last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

function pidNamespace(): string | null {
  try {
    return readlinkSync('/proc/self/ns/pid');
  } catch {
    return null;
  }
}

/** This process as a run's writer. */
interface Writer {
  pid: number;
  host: string | null;
  pidNamespace: string | null;
  started: string | null;
}

const thisWriter = (): Writer => ({ pid: process.pid, host: hostname(), pidNamespace: pidNamespace(), started: processStartTime('self') });

function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Whether a recorded writer may still be writing. A writer on another host or in another pid
 * namespace cannot be checked from here, so it counts as alive (`resume --force` overrides); in
 * ours, its pid must exist and, where recorded, have started when the writer did.
 */
function writerMayBeAlive(writer: Writer): boolean {
  const self = thisWriter();
  if (writer.host !== null && writer.host !== self.host) return true;
  if (writer.pidNamespace !== null && writer.pidNamespace !== self.pidNamespace) return true;
  if (!pidExists(writer.pid)) return false;
  return writer.started === null || processStartTime(writer.pid) === null || processStartTime(writer.pid) === writer.started;
}

function describeWriter(writer: Writer): string {
  const self = thisWriter();
  if (writer.host !== null && writer.host !== self.host) return `process ${writer.pid} on host ${writer.host}`;
  if (writer.pidNamespace !== null && writer.pidNamespace !== self.pidNamespace)
    return `process ${writer.pid} in another pid namespace (${writer.pidNamespace}, a container?)`;
  return `process ${writer.pid}`;
}

const writerFromRow = (row: Row): Writer | null =>
  row.writer_pid === null
    ? null
    : {
        pid: row.writer_pid as number,
        host: row.writer_host as string | null,
        pidNamespace: row.writer_pid_namespace as string | null,
        started: row.writer_started as string | null,
      };

/**
 * Marks this process as the run's writer, unless a live other one writes it: a search (the run is then
 * running) or a retraining (the run keeps its status). Inside a write transaction; see `Store.claimRun`.
 */
export function claimRun(db: Database.Database, path: string, runId: number, options: { force: boolean; retraining: boolean }): void {
  const row = db.prepare('SELECT * FROM runs WHERE id = ?').get(runId) as Row | undefined;
  if (!row) throw new Error(`no run ${runId} in ${path}`);
  const writer = writerFromRow(row);
  if (!options.force && writer !== null && writer.pid !== process.pid && writerMayBeAlive(writer)) {
    const doing = row.status === 'running' ? 'searched' : 'retrained';
    const instead = options.retraining ? 'retrain once it has finished' : 'stop it first, or resume with --force if it is gone';
    throw new Error(`run ${runId} is being ${doing} by ${describeWriter(writer)}; ${instead}`);
  }
  const self = thisWriter();
  const status = options.retraining ? '' : "status = 'running', error = NULL, finished_at = NULL, ";
  db.prepare(`UPDATE runs SET ${status}writer_pid = ?, writer_host = ?, writer_pid_namespace = ?, writer_started = ? WHERE id = ?`).run(
    self.pid,
    self.host,
    self.pidNamespace,
    self.started,
    runId,
  );
}

/** Gives a retraining's claim back: the run is written by no one, and keeps its status. */
export function releaseRun(db: Database.Database, runId: number): void {
  db.prepare(
    'UPDATE runs SET writer_pid = NULL, writer_host = NULL, writer_pid_namespace = NULL, writer_started = NULL ' +
      'WHERE id = ? AND writer_pid = ?',
  ).run(runId, process.pid);
}

export function runWriterMayBeAlive(db: Database.Database, runId: number): boolean {
  const row = db.prepare('SELECT * FROM runs WHERE id = ?').get(runId) as Row | undefined;
  const writer = row && writerFromRow(row);
  return writer !== undefined && writer !== null && writerMayBeAlive(writer);
}
