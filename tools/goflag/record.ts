// Writes test/cli/fixtures/goflag-golden.json: Go 1.19's flag package run on tsconfd's own flag table
// (the flags -h shows, with their types and defaults; usage texts as placeholders) and on the command lines of GOFLAG_CASES, so the -h layout
// and the usage-error wording are compared with Go's, not with a guess. Run after changing a flag:
//   node --import tsx tools/goflag/record.ts
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OPTION_SPECS, defaultOptions } from '../../src/cli/options.js';

const here = dirname(fileURLToPath(import.meta.url));

export const GOFLAG_CASES: string[][] = [
  ['-onetme'],
  ['--onetme'],
  ['-nodes', 'x'],
  ['-node'],
  ['-interval=abc'],
  ['-interval', '1.5'],
  ['-noop=maybe'],
  ['-noop='],
  ['---onetime'],
  ['-=x'],
  ['-h'],
  ['-help'],
  ['--help'],
  ['-onetime', '-h', '-bogus'],
  ['-backend', '-onetime'],
];

const defaults = defaultOptions();
const flags = OPTION_SPECS.filter((s) => s.supported).map((s) => ({
  name: s.flag,
  type: s.type === 'boolean' ? 'bool' : s.type === 'integer' ? 'int' : s.type === 'list' ? 'list' : 'string',
  default: s.type === 'list' ? '' : String(defaults[s.key]),
  // Our usage texts are ours, not Go's, and one of them lists the backends (BACKEND_NAMES), which grows: Go prints
  // a placeholder that the test puts the current text into, so the golden pins Go's layout, types and defaults.
  usage: `@usage:${s.flag}@`,
}));
const out = execFileSync('go', ['run', join(here, 'main.go')], {
  input: JSON.stringify({ flags, cases: GOFLAG_CASES }),
  env: { ...process.env, GOFLAGS: '-mod=mod', GO111MODULE: 'off' },
});
const goVersion = execFileSync('go', ['version']).toString().trim();
writeFileSync(
  join(here, '../../test/cli/fixtures/goflag-golden.json'),
  JSON.stringify({ recordedWith: goVersion, ...JSON.parse(out.toString()) }, null, 2) + '\n',
);
