// Validation time per search file: every file of the malformed corpus, plus generated worst cases
// (10 MB, 10,000 levels deep, binary, alias bombs, a valid 60 KiB file, 5,000 mistakes). The editor
// validates on every pause in typing, so the slowest file is compared with a 200 ms target. Printed, not asserted.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseSearchText } from '../src/space/parse.ts';

const CORPUS = join(__dirname, '..', 'test', 'fixtures', 'bad-spaces');
const TARGET_MS = 200;
const WARM_UP = 5;
const REPETITIONS = 21;

const MINIMAL = `name: large
dataset: { kind: digits }
space: { kind: macro, layers: 3 }
strategy: { kind: reinforce }
`;

function generatedFiles(): Array<[string, string]> {
  const depth = 10_000;
  const laughs = ['a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]'];
  for (let level = 1; level < 9; level++) {
    const [name, previous] = [String.fromCharCode(97 + level), String.fromCharCode(96 + level)];
    laughs.push(`${name}: &${name} [${Array(9).fill(`*${previous}`).join(', ')}]`);
  }
  const note = '# Notes on this search, kept with it so that the run explains itself later.\n';
  return [
    ['10mb.nas.yaml', `${MINIMAL}# ${'x'.repeat(10 * 1024 * 1024)}\n`],
    ['deep-flow-10000.nas.yaml', '['.repeat(depth) + ']'.repeat(depth)],
    ['deep-block-10000.nas.yaml', '- '.repeat(depth) + 'x'],
    ['binary-64k.nas.yaml', Buffer.from(Array.from({ length: 64 * 1024 }, (_, index) => (index * 7919) % 256)).toString('utf8')],
    ['billion-laughs.nas.yaml', laughs.join('\n')],
    ['valid-60k.nas.yaml', MINIMAL + note.repeat(Math.floor((60 * 1024 - MINIMAL.length) / note.length))],
    ['mistakes-5000.nas.yaml', `${MINIMAL}${'  - ]\n'.repeat(5000)}`],
    ['unknown-keys-5000.nas.yaml', `${MINIMAL}${Array.from({ length: 5000 }, (_, index) => `key${index}: 1`).join('\n')}\n`],
  ];
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

export function runValidationBench(): void {
  const files: Array<[string, string]> = [
    ...readdirSync(CORPUS)
      .filter((name) => name.endsWith('.nas.yaml'))
      .map((name): [string, string] => [name, readFileSync(join(CORPUS, name), 'utf8')]),
    ...generatedFiles(),
  ];
  const validate = (name: string, text: string) => parseSearchText(text, join(CORPUS, name));

  // The first valid file compiles the schema with ajv: paid once per process, when the first file opens.
  const firstStart = performance.now();
  validate('first.nas.yaml', MINIMAL);
  const firstCall = performance.now() - firstStart;

  for (let round = 0; round < WARM_UP; round++) for (const [name, text] of files) validate(name, text);
  const perFile = files.map(([name, text]) => {
    const times: number[] = [];
    for (let repetition = 0; repetition < REPETITIONS; repetition++) {
      const start = performance.now();
      validate(name, text);
      times.push(performance.now() - start);
    }
    return { name, ms: median(times) };
  });
  const slowest = perFile.reduce((worst, file) => (file.ms > worst.ms ? file : worst));
  for (const { name, ms } of perFile) console.log(`validation_file ${name} median_ms=${ms.toFixed(3)}`);
  console.log(`validation_first_call ms=${firstCall.toFixed(1)} (includes compiling the schema)`);
  console.log(
    `validation: ${perFile.length} files, median ${median(perFile.map((file) => file.ms)).toFixed(2)} ` +
      `ms, slowest ${slowest.ms.toFixed(1)} ms (${slowest.name}), target ${TARGET_MS} ms: ${Math.floor(TARGET_MS / slowest.ms)}x ` +
      `under`,
  );
}

if (require.main === module) runValidationBench();
