// The schema of a runs database, as the steps that build it; opening a database (open.ts) applies those it lacks.

/** Each entry moves the schema one version up; `user_version` records how far a database is. */
export const MIGRATIONS: string[] = [
  `CREATE TABLE runs (
     id INTEGER PRIMARY KEY,
     name TEXT NOT NULL,
     space_file TEXT NOT NULL,
     space_text TEXT NOT NULL,
     config_json TEXT NOT NULL,
     strategy TEXT NOT NULL,
     space_kind TEXT NOT NULL,
     backend TEXT,
     seed INTEGER NOT NULL,
     status TEXT NOT NULL,
     writer_pid INTEGER,
     budget_trials INTEGER NOT NULL,
     created_at TEXT NOT NULL,
     finished_at TEXT,
     error TEXT
   );
   CREATE TABLE trials (
     run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
     idx INTEGER NOT NULL,
     status TEXT NOT NULL,
     architecture_json TEXT NOT NULL,
     arch_key TEXT NOT NULL,
     graph_json TEXT NOT NULL,
     reward REAL,
     val_accuracy REAL,
     test_accuracy REAL,
     params INTEGER,
     flops REAL,
     seconds REAL,
     error TEXT,
     started_at TEXT NOT NULL,
     finished_at TEXT,
     PRIMARY KEY (run_id, idx)
   );
   CREATE INDEX trials_by_key ON trials(run_id, arch_key);
   CREATE TABLE epochs (
     run_id INTEGER NOT NULL,
     trial_idx INTEGER NOT NULL,
     epoch INTEGER NOT NULL,
     train_loss REAL NOT NULL,
     train_accuracy REAL NOT NULL,
     val_loss REAL NOT NULL,
     val_accuracy REAL NOT NULL,
     seconds REAL NOT NULL,
     PRIMARY KEY (run_id, trial_idx, epoch),
     FOREIGN KEY (run_id, trial_idx) REFERENCES trials(run_id, idx) ON DELETE CASCADE
   );
   CREATE TABLE controller_steps (
     run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
     step INTEGER NOT NULL,
     loss REAL NOT NULL,
     mean_reward REAL NOT NULL,
     baseline REAL NOT NULL,
     entropy REAL NOT NULL,
     advantage REAL NOT NULL,
     probabilities_json TEXT NOT NULL,
     created_at TEXT NOT NULL,
     PRIMARY KEY (run_id, step)
   );
   CREATE TABLE checkpoints (
     run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
     seq INTEGER NOT NULL,
     told_through INTEGER NOT NULL,
     state_json TEXT NOT NULL,
     created_at TEXT NOT NULL,
     PRIMARY KEY (run_id, seq)
   );`,
  // The controller's LSTM hidden state after it emitted a trial's architecture (float32 bytes), for
  // the controller-insight analysis. Self-contained: it only adds a table.
  `CREATE TABLE controller_hidden_states (
     run_id INTEGER NOT NULL,
     trial_idx INTEGER NOT NULL,
     hidden BLOB NOT NULL,
     PRIMARY KEY (run_id, trial_idx),
     FOREIGN KEY (run_id, trial_idx) REFERENCES trials(run_id, idx) ON DELETE CASCADE
   );`,
  // One-shot searches: how a trial was scored, DARTS' architecture weights over time, and warnings kept with the run.
  `ALTER TABLE trials ADD COLUMN evaluator TEXT NOT NULL DEFAULT 'train-from-scratch';
   CREATE TABLE alpha_snapshots (
     run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
     step INTEGER NOT NULL,
     epoch INTEGER NOT NULL,
     weights_json TEXT NOT NULL,
     created_at TEXT NOT NULL,
     PRIMARY KEY (run_id, step)
   );
   CREATE TABLE run_notes (
     run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
     seq INTEGER NOT NULL,
     level TEXT NOT NULL,
     message TEXT NOT NULL,
     created_at TEXT NOT NULL,
     PRIMARY KEY (run_id, seq)
   );`,
  // Who writes a run, beyond its pid: a pid means nothing in another host or pid namespace, and a
  // dead writer's pid may be reused; the process start time tells a reused pid apart.
  `ALTER TABLE runs ADD COLUMN writer_host TEXT;
   ALTER TABLE runs ADD COLUMN writer_pid_namespace TEXT;
   ALTER TABLE runs ADD COLUMN writer_started TEXT;`,
  // The last trial a checkpoint's strategy had asked for: resume asks again for the trials started after it.
  `ALTER TABLE checkpoints ADD COLUMN asked_through INTEGER;`,
  // A user's own training command may report validation accuracy alone, other numbers of its own, and
  // output of its own. SQLite cannot drop NOT NULL in place: the epochs table is rebuilt, its rows copied.
  `CREATE TABLE epochs_rebuilt (
     run_id INTEGER NOT NULL,
     trial_idx INTEGER NOT NULL,
     epoch INTEGER NOT NULL,
     train_loss REAL,
     train_accuracy REAL,
     val_loss REAL,
     val_accuracy REAL NOT NULL,
     seconds REAL NOT NULL,
     extra_json TEXT,
     PRIMARY KEY (run_id, trial_idx, epoch),
     FOREIGN KEY (run_id, trial_idx) REFERENCES trials(run_id, idx) ON DELETE CASCADE
   );
   INSERT INTO epochs_rebuilt (run_id, trial_idx, epoch, train_loss, train_accuracy, val_loss, val_accuracy, seconds)
     SELECT run_id, trial_idx, epoch, train_loss, train_accuracy, val_loss, val_accuracy, seconds FROM epochs;
   DROP TABLE epochs;
   ALTER TABLE epochs_rebuilt RENAME TO epochs;
   ALTER TABLE trials ADD COLUMN log TEXT;`,
  // A language model is judged by its perplexity; its accuracy columns hold its next-token accuracy.
  `ALTER TABLE trials ADD COLUMN val_perplexity REAL;
   ALTER TABLE trials ADD COLUMN test_perplexity REAL;`,
  // A language model trained in full keeps its weights, so its trial view can sample text from it; they go with their trial.
  // format names how \`data\` holds the values; vocabulary_json holds the token kind and strings; shapes_json each variable's shape.
  `CREATE TABLE trial_weights (
     run_id INTEGER NOT NULL,
     trial_idx INTEGER NOT NULL,
     format TEXT NOT NULL,
     vocabulary_json TEXT NOT NULL,
     shapes_json TEXT NOT NULL,
     data BLOB NOT NULL,
     PRIMARY KEY (run_id, trial_idx),
     FOREIGN KEY (run_id, trial_idx) REFERENCES trials(run_id, idx) ON DELETE CASCADE
   );`,
  // Trials on remote workers (runtime.queue): the queue's jobs of a run are named by its queue_key, unique
  // across databases sharing one Redis; a trial keeps the worker that ran it and how many attempts it took.
  // An asynchronous search tells results as they arrive: a checkpoint keeps those told past its in-order prefix.
  `ALTER TABLE runs ADD COLUMN queue_key TEXT;
   ALTER TABLE trials ADD COLUMN worker TEXT;
   ALTER TABLE trials ADD COLUMN attempts INTEGER;
   ALTER TABLE checkpoints ADD COLUMN told_beyond_json TEXT;`,
  // Taking a result home: a retrained trial names the trial it retrains; a trial whose weights were kept
  // names their folder (relative to the database's own folder); a measured inference latency, per trial.
  `ALTER TABLE trials ADD COLUMN retrained_from INTEGER;
   ALTER TABLE trials ADD COLUMN weights_path TEXT;
   ALTER TABLE trials ADD COLUMN latency_ms REAL;`,
];
