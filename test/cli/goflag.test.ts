// tsconfd's flags against Go's flag package (what confd uses), recorded by tools/goflag/record.ts with
// Go 1.19 on tsconfd's own flag table: the -h layout byte for byte, and each usage error's words.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { flagDefaults, parseFlags, UsageError } from '../../src/cli/flags.js';
import { OPTION_SPECS } from '../../src/cli/options.js';

const golden = JSON.parse(readFileSync(new URL('./fixtures/goflag-golden.json', import.meta.url), 'utf8')) as {
  defaults: string;
  cases: { args: string[]; error: string; help: boolean }[];
};

test('-h lists the supported flags in Go PrintDefaults layout, byte for byte', () => {
  // The recorder gave Go a placeholder for each usage text (ours; the backend list grows with BACKEND_NAMES).
  const describe = new Map(OPTION_SPECS.map((s) => [s.flag, s.describe]));
  const expected = golden.defaults.replace(/@usage:([a-z-]+)@/g, (_, flag: string) => describe.get(flag)!.replace(/\n/g, '\n    \t'));
  assert.equal(flagDefaults(), expected);
});

test('usage errors are worded as Go words them; -h/-help stop parsing as in Go', () => {
  for (const c of golden.cases) {
    const name = c.args.join(' ');
    let error = '';
    let help = false;
    try {
      help = parseFlags(c.args).help;
    } catch (e) {
      assert.ok(e instanceof UsageError, name);
      error = e.message;
    }
    assert.equal(error, c.error, name);
    assert.equal(help, c.help, name);
  }
});
