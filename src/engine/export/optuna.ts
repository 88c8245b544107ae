// A run written as an Optuna study, in Optuna's own SQLite schema (the RDB storage, schema version 12,
// as Optuna 3.0 to 3.1 write it, Debian bookworm's python3-optuna), so that `optuna.load_study`,
// optuna-dashboard and its VS Code extension open a NAS Studio search. Each decision is a categorical
// parameter whose value is the chosen option; each epoch's validation accuracy is an intermediate value.

import { rmSync } from 'node:fs';
import Database from 'better-sqlite3';
import type { TrialRecord, TrialStatus } from '../../protocol/engine.ts';
import { compileSpace } from '../../space/graph.ts';
import type { Store } from '../store/store.ts';
import { clearOutFile } from './out-file.ts';

/** The schema Optuna checks when it opens a storage: its version table and alembic's head of that schema. */
const OPTUNA_SCHEMA_VERSION = 12;
const OPTUNA_ALEMBIC_VERSION = 'v3.0.0.d';
const OPTUNA_LIBRARY_VERSION = '3.1.0';

const SCHEMA = `
CREATE TABLE studies (study_id INTEGER NOT NULL, study_name VARCHAR(512) NOT NULL, PRIMARY KEY (study_id));
CREATE UNIQUE INDEX ix_studies_study_name ON studies (study_name);
CREATE TABLE version_info (version_info_id INTEGER NOT NULL, schema_version INTEGER, library_version VARCHAR(256),
  PRIMARY KEY (version_info_id), CHECK (version_info_id=1));
CREATE TABLE study_directions (study_direction_id INTEGER NOT NULL, direction VARCHAR(8) NOT NULL, study_id INTEGER NOT NULL,
  objective INTEGER NOT NULL, PRIMARY KEY (study_direction_id), UNIQUE (study_id, objective),
  FOREIGN KEY(study_id) REFERENCES studies (study_id));
CREATE TABLE study_user_attributes (study_user_attribute_id INTEGER NOT NULL, study_id INTEGER, "key" VARCHAR(512), value_json TEXT,
  PRIMARY KEY (study_user_attribute_id), UNIQUE (study_id, "key"), FOREIGN KEY(study_id) REFERENCES studies (study_id));
CREATE TABLE study_system_attributes (study_system_attribute_id INTEGER NOT NULL, study_id INTEGER, "key" VARCHAR(512), value_json TEXT,
  PRIMARY KEY (study_system_attribute_id), UNIQUE (study_id, "key"), FOREIGN KEY(study_id) REFERENCES studies (study_id));
CREATE TABLE trials (trial_id INTEGER NOT NULL, number INTEGER, study_id INTEGER, state VARCHAR(8) NOT NULL,
  datetime_start DATETIME, datetime_complete DATETIME, PRIMARY KEY (trial_id), FOREIGN KEY(study_id) REFERENCES studies (study_id));
CREATE TABLE trial_user_attributes (trial_user_attribute_id INTEGER NOT NULL, trial_id INTEGER, "key" VARCHAR(512), value_json TEXT,
  PRIMARY KEY (trial_user_attribute_id), UNIQUE (trial_id, "key"), FOREIGN KEY(trial_id) REFERENCES trials (trial_id));
CREATE TABLE trial_system_attributes (trial_system_attribute_id INTEGER NOT NULL, trial_id INTEGER, "key" VARCHAR(512), value_json TEXT,
  PRIMARY KEY (trial_system_attribute_id), UNIQUE (trial_id, "key"), FOREIGN KEY(trial_id) REFERENCES trials (trial_id));
CREATE TABLE trial_params (param_id INTEGER NOT NULL, trial_id INTEGER, param_name VARCHAR(512), param_value FLOAT, distribution_json TEXT,
  PRIMARY KEY (param_id), UNIQUE (trial_id, param_name), FOREIGN KEY(trial_id) REFERENCES trials (trial_id));
CREATE TABLE trial_values (trial_value_id INTEGER NOT NULL, trial_id INTEGER NOT NULL, objective INTEGER NOT NULL, value FLOAT,
  value_type VARCHAR(7) NOT NULL, PRIMARY KEY (trial_value_id), UNIQUE (trial_id, objective),
  FOREIGN KEY(trial_id) REFERENCES trials (trial_id));
CREATE TABLE trial_intermediate_values (trial_intermediate_value_id INTEGER NOT NULL, trial_id INTEGER NOT NULL, step INTEGER NOT NULL,
  intermediate_value FLOAT, intermediate_value_type VARCHAR(7) NOT NULL, PRIMARY KEY (trial_intermediate_value_id),
  UNIQUE (trial_id, step), FOREIGN KEY(trial_id) REFERENCES trials (trial_id));
CREATE TABLE trial_heartbeats (trial_heartbeat_id INTEGER NOT NULL, trial_id INTEGER NOT NULL, heartbeat DATETIME NOT NULL,
  PRIMARY KEY (trial_heartbeat_id), UNIQUE (trial_id), FOREIGN KEY(trial_id) REFERENCES trials (trial_id));
CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL, CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num));
`;

/** Optuna's states: a trial a stop or a kill interrupted was never measured, as Optuna's FAIL says. */
const OPTUNA_STATES: Record<TrialStatus, string> = {
  running: 'RUNNING',
  done: 'COMPLETE',
  pruned: 'PRUNED',
  failed: 'FAIL',
  interrupted: 'FAIL',
};

/** Optuna's DATETIME: SQLAlchemy's SQLite form, in UTC as the store keeps it. */
function optunaTime(iso: string | null): string | null {
  if (iso === null) return null;
  const [date, time] = iso.replace(/Z$/, '').split('T');
  const [clock, fraction = ''] = time.split('.');
  return `${date} ${clock}.${fraction.padEnd(6, '0')}`;
}

/** Optuna's value and its type: a non-finite value is stored as its type, with no value. */
function optunaValue(value: number): [number | null, string] {
  if (Number.isFinite(value)) return [value, 'FINITE'];
  return [null, Number.isNaN(value) ? 'NAN' : value > 0 ? 'INF_POS' : 'INF_NEG'];
}

export interface OptunaExport {
  studyName: string;
  trials: number;
}

/**
 * Writes run `runId` as a study in a new Optuna SQLite file at `outFile`. An existing file is replaced only with
 * `force`; the file is written whole or not at all (a failed export removes it).
 */
export function exportOptunaStudy(store: Store, runId: number, outFile: string, options: { force?: boolean } = {}): OptunaExport {
  const run = store.getRun(runId);
  if (!run) throw new Error(`no run ${runId} in ${store.path}`);
  clearOutFile(outFile, options.force);
  const decisions = compileSpace(store.runConfig(runId).config.space);
  const distributions = decisions.map((decision) =>
    JSON.stringify({ name: 'CategoricalDistribution', attributes: { choices: decision.options } }),
  );
  // A retraining after the search chose nothing: it is not one of the study's trials.
  const trials: TrialRecord[] = store.listTrials(runId).filter((trial) => trial.retrainedFrom === null);
  const studyName = `${run.name} (run ${run.id})`;
  const db = new Database(outFile);
  try {
    db.exec(SCHEMA);
    db.transaction(() => {
      db.prepare('INSERT INTO version_info VALUES (1, ?, ?)').run(OPTUNA_SCHEMA_VERSION, OPTUNA_LIBRARY_VERSION);
      db.prepare('INSERT INTO alembic_version VALUES (?)').run(OPTUNA_ALEMBIC_VERSION);
      const studyId = db.prepare('INSERT INTO studies (study_name) VALUES (?)').run(studyName).lastInsertRowid;
      // Every strategy maximises the reward.
      db.prepare("INSERT INTO study_directions (direction, study_id, objective) VALUES ('MAXIMIZE', ?, 0)").run(studyId);
      const studyAttribute = db.prepare('INSERT INTO study_user_attributes (study_id, "key", value_json) VALUES (?, ?, ?)');
      for (const [key, value] of Object.entries({
        nas_studio_run: run.id,
        strategy: run.strategy,
        space: run.spaceKind,
        spaceFile: run.spaceFile,
      }))
        studyAttribute.run(studyId, key, JSON.stringify(value));
      const insertTrial = db.prepare(
        'INSERT INTO trials (number, study_id, state, datetime_start, datetime_complete) VALUES (?, ?, ?, ?, ?)',
      );
      const insertParam = db.prepare('INSERT INTO trial_params (trial_id, param_name, param_value, distribution_json) VALUES (?, ?, ?, ?)');
      const insertValue = db.prepare('INSERT INTO trial_values (trial_id, objective, value, value_type) VALUES (?, 0, ?, ?)');
      const insertIntermediate = db.prepare(
        'INSERT INTO trial_intermediate_values (trial_id, step, intermediate_value, intermediate_value_type) VALUES (?, ?, ?, ?)',
      );
      const insertAttribute = db.prepare('INSERT INTO trial_user_attributes (trial_id, "key", value_json) VALUES (?, ?, ?)');
      for (const trial of trials) {
        const finished = trial.status === 'running' ? null : optunaTime(trial.finishedAt);
        const trialId = insertTrial.run(
          trial.index,
          studyId,
          OPTUNA_STATES[trial.status],
          optunaTime(trial.startedAt),
          finished,
        ).lastInsertRowid;
        trial.architecture.forEach((choice, i) => insertParam.run(trialId, decisions[i].name, choice, distributions[i]));
        if (trial.status === 'done' && trial.reward !== null) insertValue.run(trialId, ...optunaValue(trial.reward));
        for (const epoch of store.trialEpochs(runId, trial.index))
          insertIntermediate.run(trialId, epoch.epoch, ...optunaValue(epoch.valAccuracy));
        const measured = { key: trial.key, evaluator: trial.evaluator, error: trial.error, worker: trial.worker, ...trial.metrics };
        for (const [key, value] of Object.entries(measured))
          if (value !== null && value !== undefined) insertAttribute.run(trialId, key, JSON.stringify(value));
      }
    })();
  } catch (error) {
    db.close();
    rmSync(outFile, { force: true });
    throw error;
  }
  db.close();
  return { studyName, trials: trials.length };
}
