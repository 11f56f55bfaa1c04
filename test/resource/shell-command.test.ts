// Values substituted into commands reach /bin/sh only through the environment: for a plain path
// the command sees the argv it saw when the path was pasted into the text (as confd does), and no
// value, however hostile, runs as shell syntax, whatever the quoting around {{.src}}.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCommand, ShellCommand } from '../../src/resource/commands.js';
import { parse } from '../../src/template/go/index.js';

/** The command's output, each argument of printf framed: <a><b>. */
const run = (cmd: ShellCommand) => runCommand(cmd, { timeoutMs: 10_000 });
/** confd's way: the value pasted into the text. */
const pasted = (text: string, src: string) => ShellCommand.literal(parse('t', text).execute(new Map([['src', src]])));

const FORMS = [
  `printf '<%s>' {{.src}}`,
  `printf '<%s>' '{{.src}}'`,
  `printf '<%s>' "{{.src}}"`,
  `printf '<%s>' x{{.src}}y --c={{.src}} 'a{{.src}}b' "a{{.src}}b"`,
  "printf '<%s>' `echo {{.src}}` \"`echo {{.src}}`\" \"`echo \"{{.src}}\"`\"",
  `printf '<%s>' $(echo {{.src}}) "$(echo {{.src}})" "$(echo "{{.src}}")" $(printf %s '{{.src}}')`,
  `printf '<%s>' "\${UNSET:-{{.src}}}" \${UNSET:-{{.src}}} "$((1+1))" {{.src}}`,
  `printf '<%s>' "it's {{.src}}" 'say "{{.src}}"' \\'{{.src}}`,
  `# a comment naming {{.src}}\nprintf '<%s>' {{.src}}`,
  `cat <<EOF\nbody {{.src}} "{{.src}}" '{{.src}}'\nEOF\nprintf '<%s>' {{.src}}`,
  `cat <<-EOF\n\tbody {{.src}}\n\tEOF\nprintf '<%s>' {{.src}}`,
  `F={{.src}}; printf '<%s>' "$F"; test -f {{.src}} || printf '<%s>' missing`,
  `sh -c 'printf "<%s>" "$1"' sh {{.src}}`,
  `printf '<%s>' $((1<<2)) $(( (3) )) {{.src}}\nprintf '<%s>' '{{.src}}'`,
];

test('a plain path: every form gives the argv confd gives with the path pasted in', async () => {
  for (const src of ['/etc/nginx/.app.conf123', '/tmp/x/.a-b_c.d@e+f=g,h:i%j987']) {
    for (const form of FORMS) {
      const cmd = ShellCommand.fromTemplate('t', form, { src });
      assert.ok(!cmd.script.includes(src), `${form}: the value is in the script`);
      assert.equal(await run(cmd), await run(pasted(form, src)), `${form} with ${src}: ${cmd.script}`);
    }
  }
});

test('a hostile value never runs, and where the operator quoted it the command gets it whole', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsconfd-shell-'));
  const pwned = join(dir, 'pwned');
  try {
    const hostile = [
      `/x/a;touch ${pwned};`,
      `/x/$(touch ${pwned})`,
      `/x/\`touch ${pwned}\``,
      `/x/'; touch ${pwned}; '`,
      `/x/"; touch ${pwned}; "`,
      `/x/'"$(touch ${pwned})"'`,
      `/x/a\nEOF\ntouch ${pwned}\n`,
      `/x/\${IFS}*|touch ${pwned}&`,
      `/x/a b  c*`,
    ];
    for (const src of hostile) {
      for (const form of FORMS) {
        const cmd = ShellCommand.fromTemplate('t', form, { src });
        await run(cmd).catch(() => '');
        assert.equal(existsSync(pwned), false, `${JSON.stringify(src)} ran through ${JSON.stringify(form)}: ${cmd.script}`);
      }
      for (const form of FORMS.slice(0, 3)) assert.equal(await run(ShellCommand.fromTemplate('t', form, { src })), `<${src}>`);
      assert.equal(await run(ShellCommand.fromTemplate('t', `printf '<%s>' "$(cat "{{.src}}" 2>/dev/null || echo '{{.src}}')"`, { src })), `<${src.replace(/\n+$/, '')}>`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('each value has its variable; a missing field prints <no value>; a cut value is refused', () => {
  const cmd = ShellCommand.fromTemplate('t', 'check {{.root}} {{.src}} {{.other}}', { src: '/a', root: '/r' });
  assert.equal(cmd.script, 'check "${TSCONFD_ROOT}" "${TSCONFD_SRC}" <no value>');
  assert.deepEqual(cmd.env, { TSCONFD_ROOT: '/r', TSCONFD_SRC: '/a' });
  assert.throws(() => ShellCommand.fromTemplate('t', 'x {{slice .src 0 3}}', { src: '/a' }), /may only be used whole/);
  assert.throws(() => ShellCommand.fromTemplate('t', "cat <<'E'\n{{.src}}\nE", { src: '/a' }), /quoted delimiter/);
  assert.throws(() => ShellCommand.fromTemplate('t', '{{getv "/x"}}', { src: '/a' }), /function "getv" not defined/);
  assert.equal(ShellCommand.literal('echo {{.src}}').script, 'echo {{.src}}');
});
