import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseSearchText } from '../../src/space/parse.ts';

const SEARCH = `name: cached
dataset: { kind: csv, path: images.csv, image_shape: [2, 2, 1] }
space: { kind: macro, layers: 2 }
strategy: { kind: random }
`;

// One row of 4 pixels and a label fits image_shape [2, 2, 1]; one of 3 pixels and a label does not.
const FITTING = 'p0,p1,p2,p3,label\n1,2,3,4,5\n';
const NOT_FITTING = 'p0,p1,p2,p3,label\n1,2,345,6\n';

test('a second parse re-reads no unchanged CSV, and re-checks one whose size or time changed', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nas-file-checks-'));
  try {
    const csv = join(dir, 'images.csv');
    const parse = () => parseSearchText(SEARCH, join(dir, 'search.nas.yaml')).problems.map((problem) => problem.rule);
    // Whole seconds, which every file system stores exactly.
    const time = new Date(Math.floor(Date.now() / 1000) * 1000 - 60_000);
    writeFileSync(csv, FITTING);
    utimesSync(csv, time, time);
    assert.deepEqual(parse(), []);

    // Same size and modification time: the cached first row answers, so the new content goes unseen.
    writeFileSync(csv, NOT_FITTING);
    assert.equal(statSync(csv).size, FITTING.length);
    utimesSync(csv, time, time);
    assert.deepEqual(parse(), [], 'an unchanged size and time must not re-read the file');

    // A new modification time makes the check read the file again.
    utimesSync(csv, time, new Date(time.getTime() + 5000));
    assert.deepEqual(parse(), ['csv-columns']);

    // So does a new size.
    writeFileSync(csv, `${FITTING}6,7,8,9,0\n`);
    assert.deepEqual(parse(), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a removed data set is reported at once, cache or not', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nas-file-checks-'));
  try {
    const csv = join(dir, 'images.csv');
    writeFileSync(csv, FITTING);
    const parse = () => parseSearchText(SEARCH, join(dir, 'search.nas.yaml')).problems.map((problem) => problem.rule);
    assert.deepEqual(parse(), []);
    rmSync(csv);
    assert.deepEqual(parse(), ['file-not-found']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
