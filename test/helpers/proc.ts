import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

/** Running, read from /proc (a zombie left for an init that does not reap counts as gone). */
export function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** The `ps` lines (pid, args) of processes whose command line contains marker, a unique argument such as `sleep 20.<pid><n>`. */
export function processesWithMarker(marker: string): string[] {
  const out = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' });
  return out.split('\n').filter((l) => l.includes(marker) && !l.includes('ps -eo'));
}

/** SIGKILLs every process processesWithMarker(marker) lists, for commands a test leaves hanging. */
export function killMarked(marker: string): void {
  for (const line of processesWithMarker(marker)) {
    try {
      process.kill(Number(line.trim().split(/\s+/)[0]), 'SIGKILL');
    } catch {
      // gone
    }
  }
}
