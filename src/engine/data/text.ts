// The reader of `text` data sets: a corpus of token ids for language models (see data/tinyshakespeare/README.md
// for the embedded one).
//
// Tokens. char: every Unicode code point (not UTF-16 unit), the vocabulary built from all of the corpus (so
// validation and test never hold an unknown character) and sorted by code point. word: what whitespace
// separates, punctuation left attached ("king," and "king" are two words, as PTB and WikiText-2 come already
// tokenized); every newline is the token <eos>; the vocabulary is built from the training part alone (what the
// model learns from), id 0 being <unk>, and validation and test words outside it become <unk>.

import { basename, join } from 'node:path';
import type { TextDatasetConfig } from '../../space/config.ts';
import { givesSplitFiles } from '../../space/kinds/datasets/text.ts';
import { DatasetError } from './dataset.ts';
import { findShippedFile, readDataFile } from './files.ts';

export interface TextCorpus {
  name: string;
  tokens: 'char' | 'word';
  /** Token strings by id, ids 0..V-1; words: id 0 is '<unk>'. Char vocabulary sorted by code point. */
  vocabulary: string[];
  /** Words only: the id of '<unk>' (0). */
  unknownId?: number;
  train: Int32Array;
  validation: Int32Array;
  test: Int32Array;
  /** What the run's log should show (e.g. how many words became <unk>, tokens kept by max_train_tokens). */
  notes?: string[];
}

export const UNKNOWN_WORD = '<unk>';
export const END_OF_LINE = '<eos>';
const PARTS = ['train', 'validation', 'test'] as const;
type Part = (typeof PARTS)[number];

/** The parts as token strings, before the vocabulary turns them into ids. */
interface TokenizedParts {
  name: string;
  /** The file each part was read from: named by errors about that part. */
  sources: Record<Part, string>;
  parts: Record<Part, string[]>;
}

/**
 * Reads and tokenizes the corpus: `path` split contiguously (train, then validation, then test), or the files
 * train, validation and test, or the embedded Tiny Shakespeare. `resolvePath` makes a path of the search file openable.
 */
export async function loadTextCorpus(config: TextDatasetConfig, resolvePath: (p: string) => string): Promise<TextCorpus> {
  const tokenized = givesSplitFiles(config) ? readSplitFiles(config, resolvePath) : readAndSplit(config, resolvePath);
  const notes: string[] = [];
  const train = tokenized.parts.train;
  if (config.max_train_tokens !== undefined && train.length > config.max_train_tokens) {
    notes.push(`kept the first ${config.max_train_tokens} of ${train.length} training tokens (max_train_tokens)`);
    tokenized.parts.train = train.slice(0, config.max_train_tokens);
  }
  const corpus = config.tokens === 'char' ? charCorpus(tokenized) : wordCorpus(tokenized, config.max_vocabulary, notes);
  checkSeveralTokens(corpus, tokenized.sources.train);
  return notes.length > 0 ? { ...corpus, notes } : corpus;
}

/** One file, or the embedded corpus, cut into train, validation and test by token counts. */
function readAndSplit(config: TextDatasetConfig, resolvePath: (p: string) => string): TokenizedParts {
  const file = config.path === undefined ? findShippedFile(join('data', 'tinyshakespeare', 'input.txt.gz')) : resolvePath(config.path);
  const tokens = tokenize(readText(file), config.tokens);
  const total = tokens.length;
  const validationCount = Math.round(total * config.validation_split);
  const testCount = Math.round(total * config.test_split);
  const trainCount = total - validationCount - testCount;
  const counts: Array<[Part, number, string]> = [
    ['train', trainCount, 'what validation and test leave'],
    ['validation', validationCount, `validation_split ${config.validation_split}`],
    ['test', testCount, `test_split ${config.test_split}`],
  ];
  for (const [part, count, reason] of counts) {
    if (count < 1)
      throw new DatasetError(file, `the ${part} part would be empty (${total} ${config.tokens} tokens, ${reason}); every part needs text`);
  }
  return {
    name: config.path === undefined ? 'tinyshakespeare' : basename(file).replace(/\.gz$/i, ''),
    sources: { train: file, validation: file, test: file },
    parts: {
      train: tokens.slice(0, trainCount),
      validation: tokens.slice(trainCount, trainCount + validationCount),
      test: tokens.slice(trainCount + validationCount),
    },
  };
}

function readSplitFiles(config: TextDatasetConfig, resolvePath: (p: string) => string): TokenizedParts {
  const sources = {} as Record<Part, string>;
  const parts = {} as Record<Part, string[]>;
  for (const part of PARTS) {
    const path = config[part];
    if (path === undefined) throw new Error(`dataset.${part} is missing: train, validation and test are given together`);
    sources[part] = resolvePath(path);
    parts[part] = tokenize(readText(sources[part]), config.tokens);
    // A file of spaces alone holds no word.
    if (parts[part].length === 0) throw new DatasetError(sources[part], `the ${part} part holds no ${config.tokens} tokens`);
  }
  return { name: basename(sources.train).replace(/\.gz$/i, ''), sources, parts };
}

/** The file's text; an empty file, or one that is not UTF-8, is a DatasetError (the latter with its line and byte offset). */
function readText(file: string): string {
  const bytes = readDataFile(file);
  if (bytes.length === 0) throw new DatasetError(file, 'the file is empty; a language model needs text to learn from');
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    const { line, offset } = firstInvalidUtf8(bytes);
    throw new DatasetError(
      file,
      `not UTF-8 text: byte 0x${bytes[offset].toString(16).padStart(2, '0')} at byte offset ${offset} begins an invalid UTF-8 sequence; ` +
        'save the file as UTF-8',
      line,
    );
  }
}

/**
 * Where the first invalid sequence starts: decoding with replacement puts U+FFFD there, and every U+FFFD
 * before it stood for itself (its own three bytes), so the bytes of the text before it count the offset.
 */
function firstInvalidUtf8(bytes: Uint8Array): { line: number; offset: number } {
  // The byte-order mark kept as text, so that offsets count its three bytes.
  const replaced = new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes);
  let offset = 0;
  let line = 1;
  let counted = 0;
  for (let index = replaced.indexOf('\uFFFD'); index >= 0; index = replaced.indexOf('\uFFFD', index + 1)) {
    const before = replaced.slice(counted, index);
    offset += Buffer.byteLength(before, 'utf8');
    line += before.split('\n').length - 1;
    counted = index;
    if (!(bytes[offset] === 0xef && bytes[offset + 1] === 0xbf && bytes[offset + 2] === 0xbd)) return { line, offset };
  }
  // Not reached while the strict decoder and this one agree; the end of the text is the last place to blame.
  return { line, offset: bytes.length - 1 };
}

function tokenize(text: string, tokens: TextDatasetConfig['tokens']): string[] {
  return tokens === 'char' ? Array.from(text) : words(text);
}

/** Whitespace-separated words, each newline the token <eos> ('\r' is whitespace: CRLF text reads as LF). */
function words(text: string): string[] {
  const found: string[] = [];
  const lines = text.split('\n');
  for (const [index, line] of lines.entries()) {
    for (const word of line.split(/\s+/u)) if (word !== '') found.push(word);
    if (index < lines.length - 1) found.push(END_OF_LINE);
  }
  return found;
}

function charCorpus({ name, parts }: TokenizedParts): TextCorpus {
  const characters = new Set<string>();
  for (const part of PARTS) for (const character of parts[part]) characters.add(character);
  const vocabulary = [...characters].sort((a, b) => a.codePointAt(0)! - b.codePointAt(0)!);
  const ids = new Map(vocabulary.map((character, id) => [character, id]));
  const encode = (tokens: string[]) => Int32Array.from(tokens, (character) => ids.get(character)!);
  return { name, tokens: 'char', vocabulary, train: encode(parts.train), validation: encode(parts.validation), test: encode(parts.test) };
}

/**
 * Vocabulary from the training part: <unk>, then the most frequent words, max_vocabulary tokens in all (<unk> counted,
 * as PTB's 10,000 count it, so that PTB keeps its vocabulary).
 */
function wordCorpus({ name, parts }: TokenizedParts, maxVocabulary: number, notes: string[]): TextCorpus {
  // A Map keeps first appearance as its order, and the sort is stable: ties stay in that order.
  const counts = new Map<string, number>();
  for (const word of parts.train) if (word !== UNKNOWN_WORD) counts.set(word, (counts.get(word) ?? 0) + 1);
  const ranked = [...counts.keys()].sort((a, b) => counts.get(b)! - counts.get(a)!);
  const vocabulary = [UNKNOWN_WORD, ...ranked.slice(0, maxVocabulary - 1)];
  if (ranked.length > vocabulary.length - 1) {
    notes.push(
      `the training part holds ${ranked.length} distinct words; the vocabulary keeps the ${vocabulary.length - 1} most frequent ` +
        `(max_vocabulary ${maxVocabulary}, <unk> counted) and the rest are ${UNKNOWN_WORD}`,
    );
  }
  const ids = new Map(vocabulary.map((word, id) => [word, id]));
  const encode = (part: Part) => {
    const encoded = Int32Array.from(parts[part], (word) => ids.get(word) ?? 0);
    const unknown = parts[part].filter((word) => !ids.has(word)).length;
    if (unknown > 0) {
      const share = ((100 * unknown) / encoded.length).toFixed(1);
      notes.push(`${unknown} of ${encoded.length} ${part} words (${share}%) are outside the vocabulary and became ${UNKNOWN_WORD}`);
    }
    return encoded;
  };
  return { name, tokens: 'word', vocabulary, unknownId: 0, train: encode('train'), validation: encode('validation'), test: encode('test') };
}

/** A corpus of one distinct token leaves a language model nothing to predict. */
function checkSeveralTokens(corpus: TextCorpus, source: string): void {
  const seen = new Uint8Array(corpus.vocabulary.length);
  for (const part of PARTS) for (const id of corpus[part]) seen[id] = 1;
  if (seen.reduce((sum, flag) => sum + flag, 0) >= 2) return;
  const only = corpus.vocabulary[seen.indexOf(1)];
  throw new DatasetError(
    source,
    `the text holds one distinct ${corpus.tokens} token (${JSON.stringify(only)}): a vocabulary of one token leaves a language ` +
      'model nothing to predict',
  );
}

/**
 * Throws a DatasetError naming the split when validation or test holds fewer than bptt + 1 tokens (one BPTT window
 * with its targets) or train fewer than batchSize*(bptt+1).
 */
export function checkTextWindows(corpus: TextCorpus, bptt: number, batchSize: number): void {
  const needed: Record<Part, [number, string]> = {
    train: [batchSize * (bptt + 1), `batch_size × (bptt + 1) = ${batchSize} × ${bptt + 1}`],
    validation: [bptt + 1, `one BPTT window with its targets, bptt + 1 = ${bptt + 1}`],
    test: [bptt + 1, `one BPTT window with its targets, bptt + 1 = ${bptt + 1}`],
  };
  for (const part of PARTS) {
    const [least, why] = needed[part];
    if (corpus[part].length >= least) continue;
    throw new DatasetError(
      corpus.name,
      `the ${part} part holds ${corpus[part].length} tokens, fewer than ${why}; give it more text or lower bptt`,
    );
  }
}

/** Text → token ids: unknown words map to unknownId; an unknown character is an error (the char vocabulary holds the whole corpus). */
export function encodeText(corpus: Pick<TextCorpus, 'tokens' | 'vocabulary' | 'unknownId'>, text: string): Int32Array {
  const ids = new Map(corpus.vocabulary.map((token, id) => [token, id]));
  return Int32Array.from(tokenize(text, corpus.tokens), (token) => {
    const id = ids.get(token) ?? corpus.unknownId;
    if (id === undefined) {
      const codePoint = `U+${token.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
      const what = corpus.tokens === 'char' ? `the character ${JSON.stringify(token)} (${codePoint})` : `the word ${JSON.stringify(token)}`;
      throw new Error(`${what} is not in the vocabulary, and the vocabulary has no ${UNKNOWN_WORD}`);
    }
    return id;
  });
}

/** Token ids → text: characters concatenated; words joined by spaces, <eos> as a newline. */
export function decodeText(corpus: Pick<TextCorpus, 'tokens' | 'vocabulary'>, ids: ArrayLike<number>): string {
  const tokens = Array.from(ids, (id) => {
    const token = corpus.vocabulary[id];
    if (token === undefined) throw new Error(`token id ${id} is not in the vocabulary (ids 0..${corpus.vocabulary.length - 1})`);
    return token;
  });
  if (corpus.tokens === 'char') return tokens.join('');
  let text = '';
  for (const [index, token] of tokens.entries()) {
    if (token === END_OF_LINE) text += '\n';
    else text += (index > 0 && tokens[index - 1] !== END_OF_LINE ? ' ' : '') + token;
  }
  return text;
}
