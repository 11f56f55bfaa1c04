// tsconfd extension: `include "name.tmpl" [data]` in Go templates (and `{{> name.hbs}}` partials in Handlebars,
// template/handlebars.ts): one template renders another from <confdir>/templates, so shared snippets are not
// copied between templates.
//   - names are relative to the templates directory; subdirectories are allowed; an absolute name or a `..`
//     segment is refused (a template never reads outside the templates directory);
//   - a name must be a string literal: a name computed at render time could come from a key's value, and data
//     never chooses the template that is evaluated (checked when a template is parsed, with its position);
//   - the included template renders with `data` as dot, or without it with the includer's top-level dot (nil in
//     a confd template, the key's KVPair in a fan-out), with the resource's functions and delimiters;
//   - a cycle (a → b → a) is an error naming the chain, raised at the include call, so Go's message locates it
//     (`template: a.tmpl:3:4: executing "a.tmpl" at <include "b.tmpl">: error calling include: include cycle: …`);
//   - each file is read once per render and parsed once per distinct text (cached per key store, as the
//     including template is in render.ts), so a render after a change under templates/ uses the new text;
//   - discover_keys follows literal includes (discover-keys.ts).
// The engine (template/go) knows nothing of this: include is one more function of the map render.ts builds.
import { readFileSync } from 'node:fs';
import { decodeBytes } from '../bytes.js';
import { dirname, isAbsolute, join, normalize, sep } from 'node:path';
import { goFunc, parse, type FuncMap, type Template } from '../template/go/index.js';
import type { TemplateResource } from './model.js';

const RESOLVING = ['lookupIP', 'lookupIPV4', 'lookupIPV6'];

/** The directory include names are relative to. */
export function templatesDirOf(resource: TemplateResource): string {
  return resource.templatesDir ?? dirname(resource.src);
}

/** Deepest include chain allowed: a guard against runaway recursion through computed names. */
export const MAX_INCLUDE_DEPTH = 32;

/** The file an include name refers to; throws for an empty, absolute or `..` name. */
export function resolveIncludeName(templatesDir: string, name: string): string {
  if (name === '') throw new Error('include: empty template name');
  if (isAbsolute(name)) throw new Error(`include: ${JSON.stringify(name)}: an absolute name is refused; name a file under the templates directory`);
  if (name.split(/[\\/]/).includes('..')) throw new Error(`include: ${JSON.stringify(name)}: ".." is refused; name a file under the templates directory`);
  const file = normalize(join(templatesDir, name));
  if (!file.startsWith(templatesDir.endsWith(sep) ? templatesDir : templatesDir + sep)) {
    throw new Error(`include: ${JSON.stringify(name)} is not under the templates directory`);
  }
  return file;
}

/** Throws, located, when `template` calls include with anything but a string literal name. */
export function requireLiteralIncludes(template: Template, name: string): void {
  const computed = template.listCalls(new Set(['include'])).filter((c) => c.args[0] === undefined || c.args[0] === null);
  if (computed.length === 0) return;
  const where = computed.map((c) => `${name}:${c.line}:${c.col}`).join(', ');
  throw new Error(`template: ${where}: include needs a string literal name (a computed name could come from a key's value)`);
}

/** Reads an included file, with the error a template author can act on. */
export function readIncluded(templatesDir: string, name: string): string {
  const file = resolveIncludeName(templatesDir, name);
  try {
    // As readTemplate: bytes that are not UTF-8 stay bytes (src/bytes.ts).
    return decodeBytes(readFileSync(file));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new Error(`include: ${JSON.stringify(name)}: no such template in ${templatesDir}`);
    throw new Error(`include: ${JSON.stringify(name)}: ${(e as Error).message}`);
  }
}

interface Parsed {
  text: string;
  template: Template;
}

/**
 * The `include` function for one compiled template. `beginRender()` must be called before each render (it makes
 * the next include calls read their files again); `funcs` is the full map the included templates see (include
 * itself among them).
 */
export class IncludeFunction {
  private readonly parsed = new Map<string, Parsed>();
  /** Files read in the current render: name → text. */
  private readThisRender = new Map<string, string>();
  /** The includes being rendered, outermost first. */
  private readonly stack: Array<{ name: string; file: string }> = [];
  private funcs: FuncMap = {};
  /** An included template calls lookupIP*: the function map (and its DNS cache) must not outlive the render. */
  resolves = false;

  constructor(
    private readonly templatesDir: string,
    /** The including template: its name (the first link of a reported cycle) and file. */
    private readonly root: { name: string; file: string },
    private readonly delims: [string, string] | undefined,
    /** dot for an include given no data: the including render's own dot. */
    private readonly defaultDot: () => unknown,
  ) {}

  /** Adds `include` to `funcs` and returns the map. */
  install(funcs: FuncMap): FuncMap {
    this.funcs = { ...funcs, include: goFunc(['string'], (name: string, ...data: unknown[]) => this.call(name, data), { variadic: 'interface {}', returnsError: true }) };
    return this.funcs;
  }

  beginRender(): void {
    this.readThisRender = new Map();
  }

  private call(name: string, data: unknown[]): string {
    if (data.length > 1) throw new Error(`include: want the template name and at most one data argument, got ${data.length + 1} arguments`);
    const file = resolveIncludeName(this.templatesDir, name);
    const chain = [this.root, ...this.stack];
    if (chain.some((c) => c.file === file)) throw new Error(`include cycle: ${[...chain.map((c) => c.name), name].join(' → ')}`);
    if (this.stack.length >= MAX_INCLUDE_DEPTH) {
      throw new Error(`include: more than ${MAX_INCLUDE_DEPTH} nested includes (${chain.map((c) => c.name).join(' → ')} → …)`);
    }
    const template = this.template(name);
    this.stack.push({ name, file });
    try {
      return template.execute(data.length === 1 ? data[0] : this.defaultDot());
    } finally {
      this.stack.pop();
    }
  }

  private template(name: string): Template {
    let text = this.readThisRender.get(name);
    if (text === undefined) {
      text = readIncluded(this.templatesDir, name);
      this.readThisRender.set(name, text);
    }
    const hit = this.parsed.get(name);
    if (hit && hit.text === text) return hit.template;
    // Named as written, so errors inside it read `template: sub/x.tmpl:2:3: …`.
    const template = parse(name, text, { funcs: this.funcs, delims: this.delims });
    requireLiteralIncludes(template, name);
    if (template.listCalls(new Set(RESOLVING)).length > 0) this.resolves = true;
    this.parsed.set(name, { text, template });
    return template;
  }
}
