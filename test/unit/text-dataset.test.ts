// The `text` data set: tokenizers, contiguous splits, its bad inputs, the embedded Tiny Shakespeare,
// and the search-file rules of the kind.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatasetError } from '../../src/engine/data/dataset.ts';
import { loadTextCorpus as loadConfiguredCorpus } from '../../src/engine/data/load.ts';
import { checkTextWindows, decodeText, encodeText, loadTextCorpus, type TextCorpus } from '../../src/engine/data/text.ts';
import type { TextDatasetConfig } from '../../src/space/config.ts';
import { parseSearchText } from '../../src/space/parse.ts';
import { freshDirs } from '../support/temp-dirs.ts';

const freshDir = freshDirs('nas-text-dataset-');

const DEFAULTS: TextDatasetConfig = { kind: 'text', tokens: 'char', max_vocabulary: 10000, validation_split: 0.05, test_split: 0.05 };

/** Writes each file (text, or bytes as they are) into a fresh folder; returns the folder. */
function filesIn(files: Record<string, string | Buffer>): string {
  const dir = freshDir();
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  return dir;
}

function load(dir: string, settings: Partial<TextDatasetConfig>): Promise<TextCorpus> {
  return loadTextCorpus({ ...DEFAULTS, ...settings }, (path) => join(dir, path));
}

/** Asserts that `promise` rejects with a DatasetError whose message matches every pattern. */
async function rejectsWith(promise: Promise<unknown>, ...patterns: RegExp[]): Promise<void> {
  await assert.rejects(promise, (error) => {
    assert.ok(error instanceof DatasetError, String(error));
    for (const pattern of patterns) assert.match(error.message, pattern);
    return true;
  });
}

const decoded = (corpus: TextCorpus, part: 'train' | 'validation' | 'test') => decodeText(corpus, corpus[part]);

// --- tokenizers ---

test('char: every code point is one token (é, an emoji), the vocabulary is sorted by code point, and text round-trips', async () => {
  const text = 'café 😀 au lait\nbon';
  const dir = filesIn({ 'all.txt': text, 'part.txt': 'é😀 ' });
  const corpus = await load(dir, { train: 'all.txt', validation: 'part.txt', test: 'part.txt' });
  assert.equal(corpus.tokens, 'char');
  assert.equal(corpus.unknownId, undefined);
  assert.deepEqual(corpus.vocabulary, ['\n', ' ', 'a', 'b', 'c', 'f', 'i', 'l', 'n', 'o', 't', 'u', 'é', '😀']);
  assert.equal(corpus.train.length, Array.from(text).length);
  assert.equal(corpus.train.length, text.length - 1, 'the emoji is two UTF-16 units and one token');
  assert.equal(decoded(corpus, 'train'), text);
  assert.equal(decodeText(corpus, encodeText(corpus, '😀é\n')), '😀é\n');
  assert.throws(() => encodeText(corpus, 'cafè'), /the character "è" \(U\+00E8\) is not in the vocabulary/);
  assert.throws(() => decodeText(corpus, [14]), /token id 14 is not in the vocabulary \(ids 0\.\.13\)/);
});

test('char: the vocabulary holds the characters of every part, so validation never meets an unknown one', async () => {
  const dir = filesIn({ 'train.txt': 'abab', 'validation.txt': 'abz', 'test.txt': 'ba' });
  const corpus = await load(dir, { train: 'train.txt', validation: 'validation.txt', test: 'test.txt' });
  assert.deepEqual(corpus.vocabulary, ['a', 'b', 'z']);
  assert.equal(decoded(corpus, 'validation'), 'abz');
});

test('word: whitespace separates words, punctuation stays attached, a newline is <eos>, <unk> takes the rest', async () => {
  const dir = filesIn({
    'train.txt': 'the cat sat\r\nthe  dog sat,\nthe end\n',
    'validation.txt': 'the bird sat\n',
    'test.txt': 'a cat\n',
  });
  const corpus = await load(dir, { tokens: 'word', max_vocabulary: 5, train: 'train.txt', validation: 'validation.txt', test: 'test.txt' });
  // Counts in the training part: the 3, <eos> 3, sat 1, cat 1, ... : ties go to the first to appear.
  assert.deepEqual(corpus.vocabulary, ['<unk>', 'the', '<eos>', 'cat', 'sat']);
  assert.equal(corpus.unknownId, 0);
  assert.equal(decoded(corpus, 'train'), 'the cat sat\nthe <unk> <unk>\nthe <unk>\n');
  assert.equal(decoded(corpus, 'validation'), 'the <unk> sat\n');
  assert.equal(decoded(corpus, 'test'), '<unk> cat\n');
  assert.deepEqual(corpus.notes, [
    'the training part holds 7 distinct words; the vocabulary keeps the 4 most frequent (max_vocabulary 5, <unk> counted) ' +
      'and the rest are <unk>',
    '3 of 11 train words (27.3%) are outside the vocabulary and became <unk>',
    '1 of 4 validation words (25.0%) are outside the vocabulary and became <unk>',
    '1 of 3 test words (33.3%) are outside the vocabulary and became <unk>',
  ]);
  const text = 'the cat\n\nsat the';
  assert.equal(decodeText(corpus, encodeText(corpus, text)), text);
  assert.deepEqual(Array.from(encodeText(corpus, 'the zebra\n')), [1, 0, 2]);
});

test('word: the vocabulary comes from the training part alone, and a written <unk> is the unknown token', async () => {
  const dir = filesIn({ 'train.txt': 'a b <unk> a', 'validation.txt': 'c a', 'test.txt': 'b' });
  const corpus = await load(dir, { tokens: 'word', train: 'train.txt', validation: 'validation.txt', test: 'test.txt' });
  assert.deepEqual(corpus.vocabulary, ['<unk>', 'a', 'b']);
  assert.deepEqual(Array.from(corpus.train), [1, 2, 0, 1]);
  assert.deepEqual(Array.from(corpus.validation), [0, 1]);
  assert.deepEqual(corpus.notes, ['1 of 2 validation words (50.0%) are outside the vocabulary and became <unk>']);
});

// --- splits ---

test('one file is split contiguously: train first, then validation, then test, by token counts', async () => {
  const dir = filesIn({ 'abc.txt': 'abcdefghijklmnopqrst' });
  const corpus = await load(dir, { path: 'abc.txt', validation_split: 0.1, test_split: 0.2 });
  assert.equal(corpus.name, 'abc.txt');
  assert.deepEqual(
    ['train', 'validation', 'test'].map((part) => decoded(corpus, part as 'train')),
    ['abcdefghijklmn', 'op', 'qrst'],
  );
  assert.equal(corpus.notes, undefined);

  const words = await load(filesIn({ 'w.txt': 'one two three four\nfive six seven eight nine' }), {
    path: 'w.txt',
    tokens: 'word',
    validation_split: 0.2,
    test_split: 0.1,
  });
  assert.deepEqual([words.train.length, words.validation.length, words.test.length], [7, 2, 1]);
  // The vocabulary is the training part's: the last words are unknown.
  assert.equal(decoded(words, 'train'), 'one two three four\nfive six');
  assert.equal(decoded(words, 'test'), '<unk>');
});

test('max_train_tokens keeps the first training tokens and says so; validation and test keep theirs', async () => {
  const dir = filesIn({ 'abc.txt': 'abcdefghijklmnopqrst' });
  const corpus = await load(dir, { path: 'abc.txt', validation_split: 0.1, test_split: 0.2, max_train_tokens: 5 });
  assert.equal(decoded(corpus, 'train'), 'abcde');
  assert.equal(decoded(corpus, 'validation'), 'op');
  assert.equal(decoded(corpus, 'test'), 'qrst');
  assert.deepEqual(corpus.notes, ['kept the first 5 of 14 training tokens (max_train_tokens)']);
  const all = await load(dir, { path: 'abc.txt', max_train_tokens: 100 });
  assert.equal(all.notes, undefined);
});

test('the embedded Tiny Shakespeare: 65 characters, 1,115,394 tokens, 90/5/5', async () => {
  const corpus = await loadConfiguredCorpus({ ...DEFAULTS }, '/nowhere');
  assert.equal(corpus.name, 'tinyshakespeare');
  assert.equal(corpus.vocabulary.length, 65);
  assert.equal(corpus.train.length + corpus.validation.length + corpus.test.length, 1_115_394);
  assert.deepEqual([corpus.validation.length, corpus.test.length], [55_770, 55_770]);
  assert.equal(decodeText(corpus, corpus.train.subarray(0, 14)), 'First Citizen:');
  assert.equal(decodeText(corpus, corpus.test.subarray(corpus.test.length - 24)), 'Whiles thou art waking.\n');
});

test('loadTextCorpus of load.ts refuses a data set of images', async () => {
  await assert.rejects(
    loadConfiguredCorpus({ kind: 'digits', validation_split: 0.2, test_split: 0.1, seed: 1 }, '/nowhere'),
    /dataset kind digits holds images, but this search trains language models/,
  );
});

// --- bad inputs ---

test('an empty file, a missing one and a file of spaces are errors that name the file', async () => {
  const dir = filesIn({ 'empty.txt': '', 'ok.txt': 'abc def', 'spaces.txt': '   \t ' });
  const empty = join(dir, 'empty.txt');
  await rejectsWith(load(dir, { path: 'empty.txt' }), new RegExp(`^${empty}: the file is empty`));
  await rejectsWith(load(dir, { train: 'ok.txt', validation: 'ok.txt', test: 'empty.txt' }), new RegExp(`^${empty}: the file is empty`));
  await rejectsWith(load(dir, { path: 'none.txt' }), new RegExp(`^${join(dir, 'none.txt')}: not found`));
  await rejectsWith(
    load(dir, { tokens: 'word', train: 'ok.txt', validation: 'spaces.txt', test: 'ok.txt' }),
    new RegExp(`^${join(dir, 'spaces.txt')}: the validation part holds no word tokens`),
  );
});

test('a file that is not UTF-8 is refused with the line and the byte offset of the first bad byte', async () => {
  // Line 2 holds a real U+FFFD (three bytes), which must not be mistaken for the bad byte; 0xE9 is Latin-1 'é'.
  const bytes = Buffer.concat([Buffer.from('ok\nline \uFFFD two\ncaf'), Buffer.from([0xe9]), Buffer.from(' au lait\n')]);
  const dir = filesIn({ 'latin1.txt': bytes });
  const file = join(dir, 'latin1.txt');
  const offset = Buffer.byteLength('ok\nline \uFFFD two\ncaf');
  assert.equal(bytes[offset], 0xe9);
  await rejectsWith(
    load(dir, { path: 'latin1.txt' }),
    new RegExp(`^${file}, line 3: not UTF-8 text: byte 0xe9 at byte offset ${offset} begins an invalid UTF-8 sequence`),
  );
  // A byte-order mark counts in the offset; a lone continuation byte on the first line.
  const withMark = filesIn({ 'bom.txt': Buffer.from([0xef, 0xbb, 0xbf, 0x61, 0x80, 0x62]) });
  await rejectsWith(load(withMark, { path: 'bom.txt' }), /, line 1: not UTF-8 text: byte 0x80 at byte offset 4 /);
});

test('a text of one distinct token is refused: nothing to predict', async () => {
  const dir = filesIn({ 'a.txt': 'aaaaaaaaaaaaaaaaaaaaaaaaa', 'words.txt': 'la la la la la la la la la la la la la la la la la la la la' });
  await rejectsWith(load(dir, { path: 'a.txt' }), new RegExp(`^${join(dir, 'a.txt')}: the text holds one distinct char token \\("a"\\)`));
  await rejectsWith(load(dir, { path: 'words.txt', tokens: 'word' }), /one distinct word token \("la"\): a vocabulary of one token/);
});

test('a split that leaves a part empty is refused, naming the part and the setting', async () => {
  const dir = filesIn({ 'short.txt': 'abcdefgh' });
  const file = join(dir, 'short.txt');
  await rejectsWith(
    load(dir, { path: 'short.txt' }),
    new RegExp(`^${file}: the validation part would be empty \\(8 char tokens, validation_split 0.05\\)`),
  );
  await rejectsWith(
    load(dir, { path: 'short.txt', validation_split: 0.2, test_split: 0.01 }),
    /the test part would be empty \(8 char tokens, test_split 0.01\)/,
  );
});

test('checkTextWindows: validation and test need one BPTT window with its targets, train a batch of them', async () => {
  const dir = filesIn({ 'train.txt': 'abcdefghijklmnopqrst', 'validation.txt': 'abcdef', 'test.txt': 'abcdefg' });
  const corpus = await load(dir, { train: 'train.txt', validation: 'validation.txt', test: 'test.txt' });
  checkTextWindows(corpus, 5, 3);
  assert.throws(
    () => checkTextWindows(corpus, 6, 2),
    /^DatasetError: train\.txt: the validation part holds 6 tokens, fewer than one BPTT window with its targets, bptt \+ 1 = 7/,
  );
  assert.throws(() => checkTextWindows(corpus, 5, 4), /the train part holds 20 tokens, fewer than batch_size × \(bptt \+ 1\) = 4 × 6/);
  assert.throws(() => checkTextWindows({ ...corpus, test: corpus.test.subarray(0, 5) }, 5, 1), /the test part holds 5 tokens/);
});

// --- the search file ---

function problems(dataset: string, dir = freshDir()) {
  const text = `name: text\ndataset: ${dataset}\nspace: { kind: recurrent, nodes: 2 }\nstrategy: { kind: random }\n`;
  return parseSearchText(text, join(dir, 'search.nas.yaml')).problems.map(({ line, column, rule, message }) => ({
    line,
    column,
    rule,
    message,
  }));
}

test('a text data set gets its defaults; with no file it is the embedded corpus', () => {
  const text = 'name: text\ndataset: { kind: text }\nspace: { kind: recurrent, nodes: 2 }\nstrategy: { kind: random }\n';
  const { config, problems: found } = parseSearchText(text, join(freshDir(), 'search.nas.yaml'));
  assert.deepEqual(found, []);
  assert.deepEqual(config?.dataset, DEFAULTS);
});

test('rule text-files: train, validation and test all three or none, and never with path', () => {
  const dir = filesIn({ 'a.txt': 'abc', 'b.txt': 'abc', 'c.txt': 'abc' });
  assert.deepEqual(problems('{ kind: text, train: a.txt, validation: b.txt, test: c.txt }', dir), []);
  const [partial] = problems('{ kind: text, validation: b.txt }', dir);
  assert.deepEqual([partial.line, partial.column, partial.rule], [2, 24, 'text-files']);
  assert.match(
    partial.message,
    /^dataset\.validation: train, validation and test are given all three or none, train and test missing \(rule: text-files\)/,
  );
  const [withPath] = problems('{ kind: text, path: a.txt, train: a.txt, validation: b.txt, test: c.txt }', dir);
  assert.deepEqual([withPath.line, withPath.column, withPath.rule], [2, 37, 'text-files']);
  assert.match(withPath.message, /path and the three files train, validation and test exclude each other/);
});

test('rule text-splits: validation_split + test_split below 0.9, and no splits beside three files', () => {
  const dir = filesIn({ 'a.txt': 'abc' });
  assert.deepEqual(problems('{ kind: text, path: a.txt, validation_split: 0.5, test_split: 0.3 }', dir), []);
  const [sum] = problems('{ kind: text, path: a.txt, validation_split: 0.6, test_split: 0.3 }', dir);
  assert.deepEqual([sum.line, sum.column, sum.rule], [2, 72, 'text-splits']);
  assert.match(sum.message, /validation_split \+ test_split must be below 0.9 .* got 0.6 \+ 0.3 = 0.9 \(rule: text-splits\)/);
  const [onlyValidation] = problems('{ kind: text, validation_split: 0.88 }', dir);
  assert.deepEqual([onlyValidation.line, onlyValidation.column, onlyValidation.rule], [2, 42, 'text-splits']);
  const withFiles = problems('{ kind: text, train: a.txt, validation: a.txt, test: a.txt, test_split: 0.1 }', dir);
  assert.deepEqual(
    withFiles.map(({ line, column, rule }) => [line, column, rule]),
    [[2, 70, 'text-splits']],
  );
  assert.match(
    withFiles[0].message,
    /^dataset\.test_split: the files train, validation and test are the splits \(rule: text-splits\); remove test_split/,
  );
});

test('rule max-vocabulary-words: max_vocabulary is for words', () => {
  assert.deepEqual(problems('{ kind: text, tokens: word, max_vocabulary: 50 }'), []);
  const [char] = problems('{ kind: text, max_vocabulary: 50 }');
  assert.deepEqual([char.line, char.column, char.rule], [2, 24, 'max-vocabulary-words']);
  assert.match(char.message, /^dataset\.max_vocabulary: applies to tokens: word only/);
});

test('the file checks: each named file exists, is a file and is not empty', () => {
  const dir = filesIn({ 'a.txt': 'abc', 'empty.txt': '' });
  mkdirSync(join(dir, 'folder'));
  const found = problems('{ kind: text, train: a.txt, validation: folder, test: empty.txt }', dir);
  assert.deepEqual(
    found.map(({ line, column, rule }) => [line, column, rule]),
    [
      [2, 50, 'path-kind'],
      [2, 64, 'empty-file'],
    ],
  );
  assert.match(found[0].message, new RegExp(`^dataset\\.validation: ${join(dir, 'folder')} is a folder \\(rule: path-kind\\)`));
  assert.match(found[1].message, new RegExp(`^dataset\\.test: ${join(dir, 'empty.txt')} is empty \\(rule: empty-file\\)`));
  const [missing] = problems('{ kind: text, path: none.txt }', dir);
  assert.deepEqual([missing.column, missing.rule], [30, 'file-not-found']);
  assert.match(missing.message, new RegExp(`^dataset\\.path: not found: ${join(dir, 'none.txt')} \\(rule: file-not-found\\)`));
});
