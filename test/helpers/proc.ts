import { readFileSync } from 'node:fs';

/** Running, read from /proc (a zombie left for an init that does not reap counts as gone). */
export function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}
