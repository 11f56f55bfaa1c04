// A strict parser of the Prometheus text exposition format 0.0.4, written from the format's specification
// (https://prometheus.io/docs/instrumenting/exposition_formats/), so tests check /metrics against the format
// rather than against prom-client's own output. It throws on anything a Prometheus server would reject.

export interface Sample {
  /** The series name, e.g. tsconfd_command_duration_seconds_bucket */
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  type: 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';
  help: string | undefined;
  samples: Sample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

export function parsePrometheusText(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const seenSeries = new Set<string>();
  const closed = new Set<string>(); // families whose samples ended; one family's lines must be contiguous
  let current: Family | undefined;
  if (text.length > 0 && !text.endsWith('\n')) throw new Error('exposition must end with a newline');

  const lines = text.split('\n');
  lines.pop();
  lines.forEach((line, index) => {
    const where = `line ${index + 1}`;
    if (line.trim() === '') return;
    if (line.startsWith('#')) {
      const m = /^#\s+(HELP|TYPE)\s+(\S+)(?:\s(.*))?$/.exec(line);
      if (!m) return; // an ordinary comment
      const [, keyword, name, rest = ''] = m;
      if (!METRIC_NAME.test(name)) throw new Error(`${where}: bad metric name ${name}`);
      const family = familyFor(name, where);
      if (keyword === 'HELP') {
        if (family.help !== undefined) throw new Error(`${where}: second HELP for ${name}`);
        family.help = unescape(rest, false, where);
      } else {
        if (family.samples.length > 0) throw new Error(`${where}: TYPE for ${name} after its samples`);
        if (!TYPES.has(rest.trim())) throw new Error(`${where}: bad type ${rest}`);
        if (family.type !== 'untyped') throw new Error(`${where}: second TYPE for ${name}`);
        family.type = rest.trim() as Family['type'];
      }
      return;
    }
    const sample = parseSample(line, where);
    const family = familyFor(baseName(sample.name, families), where);
    const key = `${sample.name}${JSON.stringify(Object.entries(sample.labels).sort())}`;
    if (seenSeries.has(key)) throw new Error(`${where}: duplicate series ${key}`);
    seenSeries.add(key);
    family.samples.push(sample);
  });

  for (const family of families.values()) checkFamily(family);
  return families;

  function familyFor(name: string, where: string): Family {
    let family = families.get(name);
    if (!family) {
      family = { name, type: 'untyped', help: undefined, samples: [] };
      families.set(name, family);
    }
    if (current !== family) {
      if (current) closed.add(current.name);
      if (closed.has(name)) throw new Error(`${where}: lines of ${name} are not contiguous`);
      current = family;
    }
    return family;
  }
}

// A histogram's or summary's series (_bucket, _sum, _count) belong to the family declared without the suffix.
function baseName(name: string, families: Map<string, Family>): string {
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (!name.endsWith(suffix)) continue;
    const family = families.get(name.slice(0, -suffix.length));
    if (family && (family.type === 'histogram' || family.type === 'summary')) return family.name;
  }
  return name;
}

function parseSample(line: string, where: string): Sample {
  const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)/.exec(line);
  if (!m) throw new Error(`${where}: bad sample line: ${line}`);
  const name = m[1];
  let pos = name.length;
  const labels: Record<string, string> = {};
  if (line[pos] === '{') {
    pos++;
    while (line[pos] !== '}') {
      const lm = /^\s*([^=\s]+)\s*=\s*"/.exec(line.slice(pos));
      if (!lm) throw new Error(`${where}: bad label at column ${pos + 1}: ${line}`);
      const labelName = lm[1];
      if (!LABEL_NAME.test(labelName)) throw new Error(`${where}: bad label name ${labelName}`);
      if (labelName in labels) throw new Error(`${where}: duplicate label ${labelName}`);
      pos += lm[0].length;
      let raw = '';
      while (line[pos] !== '"') {
        if (pos >= line.length) throw new Error(`${where}: unterminated label value`);
        if (line[pos] === '\\') raw += line[pos++];
        raw += line[pos++];
      }
      pos++;
      labels[labelName] = unescape(raw, true, where);
      const sep = /^\s*(,?)\s*/.exec(line.slice(pos))!;
      pos += sep[0].length;
      if (sep[1] !== ',' && line[pos] !== '}') throw new Error(`${where}: expected , or } at column ${pos + 1}`);
    }
    pos++;
  }
  const rest = line.slice(pos);
  const vm = /^[ \t]+(\S+)(?:[ \t]+(-?\d+))?[ \t]*$/.exec(rest);
  if (!vm) throw new Error(`${where}: bad value part "${rest}"`);
  return { name, labels, value: parseValue(vm[1], where) };
}

function parseValue(text: string, where: string): number {
  // Prometheus reads values with Go's strconv.ParseFloat, which takes inf, infinity and nan in any case.
  const special = /^([-+]?)(inf|infinity|nan)$/i.exec(text);
  if (special) return special[2].toLowerCase() === 'nan' ? NaN : special[1] === '-' ? -Infinity : Infinity;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) throw new Error(`${where}: bad value ${text}`);
  return Number(text);
}

function unescape(raw: string, quoted: boolean, where: string): string {
  return raw.replace(/\\(.?)/g, (_, c: string) => {
    if (c === '\\') return '\\';
    if (c === 'n') return '\n';
    if (c === '"' && quoted) return '"';
    throw new Error(`${where}: bad escape \\${c}`);
  });
}

function checkFamily(family: Family): void {
  if (family.type === 'counter') {
    for (const s of family.samples) {
      if (!(s.value >= 0)) throw new Error(`counter ${s.name} has value ${s.value}`);
    }
  }
  if (family.type !== 'histogram') return;
  // Group the buckets of each label set (all labels but le) and check they are cumulative and end at +Inf = _count.
  const groups = new Map<string, { buckets: Array<[number, number]>; count?: number; sum?: number }>();
  for (const s of family.samples) {
    const { le, ...rest } = s.labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    const group = groups.get(key) ?? { buckets: [] };
    groups.set(key, group);
    if (s.name === `${family.name}_bucket`) {
      if (le === undefined) throw new Error(`${s.name} without le`);
      group.buckets.push([parseValue(le, s.name), s.value]);
    } else if (s.name === `${family.name}_count`) group.count = s.value;
    else if (s.name === `${family.name}_sum`) group.sum = s.value;
    else throw new Error(`histogram ${family.name} has series ${s.name}`);
  }
  for (const [key, group] of groups) {
    const sorted = [...group.buckets].sort((a, b) => a[0] - b[0]);
    if (sorted.at(-1)?.[0] !== Infinity) throw new Error(`histogram ${family.name}${key} lacks the +Inf bucket`);
    sorted.forEach(([, v], i) => {
      if (i > 0 && v < sorted[i - 1][1]) throw new Error(`histogram ${family.name}${key} buckets are not cumulative`);
    });
    if (group.count === undefined || group.sum === undefined) throw new Error(`histogram ${family.name}${key} lacks _count or _sum`);
    if (sorted.at(-1)![1] !== group.count) throw new Error(`histogram ${family.name}${key}: +Inf bucket != _count`);
  }
}

/** The value of the one sample of `name` whose labels include `labels`; throws when none or several match. */
export function sampleValue(families: Map<string, Family>, name: string, labels: Record<string, string> = {}): number {
  const matches = [...families.values()]
    .flatMap((f) => f.samples)
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (matches.length !== 1) throw new Error(`${matches.length} samples of ${name}${JSON.stringify(labels)}`);
  return matches[0].value;
}
