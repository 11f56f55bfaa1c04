// A running `dist/cli.js -watch` for the watch e2e tests: its log, its output file, and a count
// of how many times it wrote that file (its reload_cmd appends a line per write).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Agent } from './agent.js';
import { Workspace } from './onetime-harness.js';

/** One resource: every key under <prefix>/svc rendered as "name=value" lines. */
export function serviceWorkspace(opts: { prefix?: string; toml?: string } = {}): Workspace {
  const prefix = opts.prefix ?? '/app';
  return new Workspace({
    'conf.d/app.toml': `[template]
prefix = "${prefix}"
src = "app.tmpl"
dest = "@OUT@/app.conf"
keys = ["/svc"]
reload_cmd = "echo write >> @OUT@/../writes"
${opts.toml ?? ''}`,
    'templates/app.tmpl': '{{range gets "/svc/*"}}{{base .Key}}={{.Value}}\n{{end}}',
  });
}

/** A `-watch -confdir ws.confdir` agent with the workspace's app.conf and its write count at hand. */
export class WatchAgent extends Agent {
  constructor(
    readonly ws: Workspace,
    args: string[],
  ) {
    super(['-watch', '-confdir', ws.confdir, ...args]);
  }

  get dest(): string {
    return join(this.ws.out, 'app.conf');
  }

  content(): string | undefined {
    return existsSync(this.dest) ? readFileSync(this.dest, 'utf8') : undefined;
  }

  writes(): number {
    return this.ws.lines('writes').length;
  }

  logText(): string {
    return this.log.join('\n');
  }

  /** waitFor, failing with the output file as well as the log tail. */
  until(what: string, check: () => boolean, timeoutMs = 15_000): Promise<number> {
    return this.waitFor(what, check, timeoutMs, () => `file:\n${this.content()}\nlog:\n${this.tail(30)}`);
  }
}
