// Built-in reload actions: reload a process without a shell, for minimal images and for a process in another
// container of the pod. They are named by a one-line spec, written in a resource as
//
//   reload = "signal:HUP:/run/nginx.pid"                   send SIGHUP to the pid written in /run/nginx.pid
//   reload = "http:POST:http://127.0.0.1:9090/-/reload"    make a request; any 2xx answer is success
//
// `reload` is a tsconfd key beside confd's `reload_cmd` (which stays a /bin/sh command, exactly as in confd);
// confd ignores unknown keys, so a resource using it still loads in confd.
// Grammar: signal:<SIGNAL>:<pidfile>   SIGNAL is a name with or without "SIG" (HUP, SIGUSR2) — case-insensitive;
//                                       pidfile is an absolute path whose first line is a decimal pid.
//          http:<METHOD>:<url>         METHOD is GET, POST, PUT, PATCH or DELETE; url is http:// or https://.
//                                       Credentials in the url (http://user:pass@host/) are sent as Basic auth and
//                                       never logged.
import { constants } from 'node:os';
import { readFile } from 'node:fs/promises';
import { isAbsolute } from 'node:path';
import { maskUserinfo } from '../log.js';

export type ReloadAction =
  | { kind: 'signal'; signal: NodeJS.Signals; pidfile: string }
  | { kind: 'http'; method: HttpMethod; url: URL };

const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
type HttpMethod = (typeof HTTP_METHODS)[number];

/** A spec that does not follow the grammar above; reported when the resource is loaded. */
export class ReloadActionSyntaxError extends Error {
  override name = 'ReloadActionSyntaxError';
}

// A spec that failed to parse may still hold a password in its URL: it is quoted masked.
function syntaxError(spec: string, why: string): ReloadActionSyntaxError {
  return new ReloadActionSyntaxError(`invalid reload action "${maskUserinfo(spec)}": ${why}`);
}

/** A reload action that ran and failed. `timedOut` tells a hang from a refusal. */
export class ReloadActionError extends Error {
  override name = 'ReloadActionError';
  constructor(
    message: string,
    readonly timedOut: boolean,
  ) {
    super(message);
  }
}

export function parseReloadAction(spec: string): ReloadAction {
  const trimmed = spec.trim();
  const first = trimmed.indexOf(':');
  const second = first < 0 ? -1 : trimmed.indexOf(':', first + 1);
  if (second < 0) throw syntaxError(spec, 'want signal:SIG:/pidfile or http:METHOD:URL');
  const kind = trimmed.slice(0, first);
  const arg = trimmed.slice(first + 1, second);
  const target = trimmed.slice(second + 1);
  if (kind === 'signal') return { kind, signal: parseSignal(arg, spec), pidfile: parsePidfile(target, spec) };
  if (kind === 'http') return { kind, method: parseMethod(arg, spec), url: parseUrl(target, spec) };
  throw syntaxError(spec, `unknown kind "${kind}" (want signal or http)`);
}

function parseSignal(name: string, spec: string): NodeJS.Signals {
  const upper = name.toUpperCase();
  const full = upper.startsWith('SIG') ? upper : `SIG${upper}`;
  if (!(full in constants.signals)) {
    throw syntaxError(spec, `unknown signal "${name}"`);
  }
  return full as NodeJS.Signals;
}

function parsePidfile(path: string, spec: string): string {
  if (!isAbsolute(path)) throw syntaxError(spec, 'pidfile must be an absolute path');
  return path;
}

function parseMethod(method: string, spec: string): HttpMethod {
  const upper = method.toUpperCase();
  if (!(HTTP_METHODS as readonly string[]).includes(upper)) {
    throw syntaxError(spec, `unsupported method "${method}"`);
  }
  return upper as HttpMethod;
}

function parseUrl(text: string, spec: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw syntaxError(spec, 'invalid URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw syntaxError(spec, 'URL must be http:// or https://');
  }
  return url;
}

/** The action for logs and errors, with any password in the URL masked. */
export function describeReloadAction(action: ReloadAction): string {
  if (action.kind === 'signal') return `signal:${action.signal.slice(3)}:${action.pidfile}`;
  const shown = new URL(action.url);
  if (shown.password) shown.password = '***';
  return `http:${action.method}:${shown.href}`;
}

export interface RunReloadActionOptions {
  /** The action fails with ReloadActionError(timedOut=true) after this long. */
  timeoutMs: number;
  /** Aborts the action early (shutdown). */
  signal?: AbortSignal;
}

/** Runs the action. Resolves with a one-line description of what was done; rejects with ReloadActionError. */
export async function runReloadAction(action: ReloadAction, options: RunReloadActionOptions): Promise<string> {
  const timeout = AbortSignal.timeout(options.timeoutMs);
  const signal = options.signal ? AbortSignal.any([timeout, options.signal]) : timeout;
  try {
    return action.kind === 'signal' ? await sendSignal(action, signal) : await request(action, signal);
  } catch (error) {
    if (error instanceof ReloadActionError) throw error;
    const what = describeReloadAction(action);
    if (timeout.aborted) throw new ReloadActionError(`${what}: timed out after ${options.timeoutMs}ms`, true);
    if (options.signal?.aborted) throw new ReloadActionError(`${what}: aborted`, false);
    throw new ReloadActionError(`${what}: ${causeMessage(error)}`, false);
  }
}

async function sendSignal(action: Extract<ReloadAction, { kind: 'signal' }>, signal: AbortSignal): Promise<string> {
  const text = await readFile(action.pidfile, { encoding: 'utf8', signal });
  const line = text.split('\n', 1)[0].trim();
  // kill(0) and kill(-n) address whole process groups (ours included): never let a bad pidfile do that.
  if (!/^\d+$/.test(line) || Number(line) < 1) {
    throw new ReloadActionError(`${describeReloadAction(action)}: pidfile does not hold a pid: ${JSON.stringify(line.slice(0, 40))}`, false);
  }
  const pid = Number(line);
  try {
    process.kill(pid, action.signal);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === 'ESRCH'
        ? `no process ${pid} (stale pidfile?)`
        : code === 'EPERM'
          ? `not permitted to signal pid ${pid} (different user; run as the same uid or grant CAP_KILL)`
          : causeMessage(error);
    throw new ReloadActionError(`${describeReloadAction(action)}: ${why}`, false);
  }
  return `sent ${action.signal} to pid ${pid}`;
}

const MAX_BODY_SHOWN = 200;

async function request(action: Extract<ReloadAction, { kind: 'http' }>, signal: AbortSignal): Promise<string> {
  const url = new URL(action.url);
  const headers: Record<string, string> = {};
  // fetch refuses URLs with credentials, so they travel as a header instead.
  if (url.username || url.password) {
    const user = decodeURIComponent(url.username);
    const password = decodeURIComponent(url.password);
    headers.authorization = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
    url.username = '';
    url.password = '';
  }
  const response = await fetch(url, { method: action.method, headers, signal, redirect: 'manual' });
  const body = (await response.text()).slice(0, MAX_BODY_SHOWN).trim();
  const status = `${response.status}${response.statusText ? ` ${response.statusText}` : ''}`;
  if (response.status < 200 || response.status > 299) {
    throw new ReloadActionError(`${describeReloadAction(action)}: HTTP ${status}${body ? `: ${body}` : ''}`, false);
  }
  return `${action.method} ${describeReloadAction(action).slice(`http:${action.method}:`.length)} → HTTP ${status}`;
}

// fetch wraps network errors as "fetch failed" with the useful part in `cause` (ECONNREFUSED...).
function causeMessage(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = (error as Error & { cause?: unknown }).cause;
  if (cause instanceof Error) {
    const code = (cause as NodeJS.ErrnoException).code;
    return code ? `${error.message}: ${code}` : `${error.message}: ${cause.message}`;
  }
  return error.message;
}
