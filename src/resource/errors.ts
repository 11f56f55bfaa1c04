// Go's text for the errno codes a config agent meets, so messages read like confd's
// ("open /etc/x/.app.conf123: no such file or directory").
const STRERROR: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'is a directory',
  ENOTDIR: 'not a directory',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on device',
  EBUSY: 'device or resource busy',
  EXDEV: 'invalid cross-device link',
  EEXIST: 'file exists',
  EDQUOT: 'disk quota exceeded',
  EIO: 'input/output error',
  ELOOP: 'too many levels of symbolic links',
  ENAMETOOLONG: 'file name too long',
};

export function errnoText(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  if (err && typeof err.code === 'string' && STRERROR[err.code]) return STRERROR[err.code]!;
  return err instanceof Error ? err.message : String(e);
}

/** `op path: reason`, as Go's *PathError prints. */
export function pathError(op: string, path: string, e: unknown): Error {
  const out = new Error(`${op} ${path}: ${errnoText(e)}`);
  (out as NodeJS.ErrnoException).code = (e as NodeJS.ErrnoException)?.code;
  return out;
}

/** Go's strconv.Quote (the template engine's): confd prints a command's output with %q. */
export { quote as goQuote } from '../template/go/strconv.js';
