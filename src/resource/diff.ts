// A unified diff (as `diff -u` prints it) for -noop, computed with Myers' O((N+M)·D) algorithm.

type Op = { kind: ' ' | '-' | '+'; line: string };

function splitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n');
  // "a\nb\n" is two lines; a last line without "\n" is marked the way diff marks it.
  if (lines[lines.length - 1] === '') lines.pop();
  else lines[lines.length - 1] += '\n\\ No newline at end of file';
  return lines;
}

function myers(a: string[], b: string[]): Op[] {
  const n = a.length;
  const m = b.length;
  const max = n + m;
  const offset = max + 1;
  const v = new Int32Array(2 * max + 3);
  const trace: Int32Array[] = [];
  let found = false;
  for (let d = 0; d <= max && !found; d++) {
    trace.push(v.slice());
    for (let k = -d; k <= d; k += 2) {
      let x: number;
      if (k === -d || (k !== d && v[offset + k - 1]! < v[offset + k + 1]!)) x = v[offset + k + 1]!;
      else x = v[offset + k - 1]! + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) {
        x++;
        y++;
      }
      v[offset + k] = x;
      if (x >= n && y >= m) {
        found = true;
        break;
      }
    }
  }
  // Walk the trace back from (n, m) to (0, 0).
  const ops: Op[] = [];
  let x = n;
  let y = m;
  for (let d = trace.length - 1; d >= 0; d--) {
    const vd = trace[d]!;
    const k = x - y;
    let prevK: number;
    if (k === -d || (k !== d && vd[offset + k - 1]! < vd[offset + k + 1]!)) prevK = k + 1;
    else prevK = k - 1;
    const prevX = d === 0 ? 0 : vd[offset + prevK]!;
    const prevY = d === 0 ? 0 : prevX - prevK;
    while (x > prevX && y > prevY) {
      ops.push({ kind: ' ', line: a[x - 1]! });
      x--;
      y--;
    }
    if (d > 0) {
      if (x === prevX) ops.push({ kind: '+', line: b[y - 1]! });
      else ops.push({ kind: '-', line: a[x - 1]! });
    }
    x = prevX;
    y = prevY;
  }
  return ops.reverse();
}

/** The unified diff from oldText to newText, or "" when they are equal. */
export function unifiedDiff(oldText: string, newText: string, oldName: string, newName: string, context = 3): string {
  if (oldText === newText) return '';
  const ops = myers(splitLines(oldText), splitLines(newText));
  let out = `--- ${oldName}\n+++ ${newName}\n`;
  let i = 0;
  while (i < ops.length) {
    while (i < ops.length && ops[i]!.kind === ' ') i++;
    if (i >= ops.length) break;
    // A hunk: from `context` lines before this change to `context` lines after the last change
    // that is within 2*context lines of the previous one.
    const start = Math.max(0, i - context);
    let end = i;
    let j = i;
    while (j < ops.length) {
      if (ops[j]!.kind !== ' ') {
        end = j;
        j++;
        continue;
      }
      let run = 0;
      while (j + run < ops.length && ops[j + run]!.kind === ' ') run++;
      if (j + run >= ops.length || run > 2 * context) break;
      j += run;
    }
    const stop = Math.min(ops.length, end + 1 + context);
    let oldStart = 1;
    let newStart = 1;
    for (let p = 0; p < start; p++) {
      if (ops[p]!.kind !== '+') oldStart++;
      if (ops[p]!.kind !== '-') newStart++;
    }
    let oldLen = 0;
    let newLen = 0;
    let body = '';
    for (let p = start; p < stop; p++) {
      const op = ops[p]!;
      if (op.kind !== '+') oldLen++;
      if (op.kind !== '-') newLen++;
      body += op.kind + op.line + '\n';
    }
    const range = (s: number, len: number) => (len === 1 ? `${s}` : `${len === 0 ? s - 1 : s},${len}`);
    out += `@@ -${range(oldStart, oldLen)} +${range(newStart, newLen)} @@\n${body}`;
    i = stop;
  }
  return out;
}
