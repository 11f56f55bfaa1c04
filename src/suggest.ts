// "Did you mean": the closest of a set of names to one that was not found, when it looks like a typo.
// Shared by the flag parser, confd.toml and resource files (a leaf module: it imports nothing).

/**
 * The candidate nearest to `name` in edits (an abbreviation counts as one), or undefined when even the nearest
 * needs more than a third of the name's length in edits (at most 4).
 */
export function closest(name: string, candidates: Iterable<string>): string | undefined {
  const wanted = name.toLowerCase().replace(/-/g, '_');
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const other = c.toLowerCase().replace(/-/g, '_');
    const d = other === wanted ? 0 : other.startsWith(wanted) ? 1 : editDistance(wanted, other);
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return bestDistance <= Math.min(4, Math.max(1, Math.floor(name.length / 3))) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      next[j] = Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    row = next;
  }
  return row[b.length]!;
}
