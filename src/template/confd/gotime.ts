// A Go time.Time for confd's `datetime` (time.Now). Methods a template can call: Year, Month,
// Day, Hour, Minute, Second, Nanosecond, YearDay, Weekday, Unix, UnixMilli, UnixMicro,
// UnixNano, Format (Go's layout language, complete: every std chunk of Go 1.19's time/format.go),
// String, UTC, Local, IsZero, Before, After, Equal.
//
// The zone abbreviation is read from the same tzdata file Go's time.Local uses ($TZ or
// /etc/localtime); the UTC offset comes from Node's Date (ICU), which agrees unless ICU's and the
// system's tzdata versions differ. Approximations: the clock has microsecond resolution at best
// (Date plus performance.now()); UnixNano is exact (a bigint int, see value.ts); String's
// monotonic reading m=+S is the process's uptime.

import { existsSync, readFileSync } from 'node:fs';
import { GO_METHODS, GO_TYPE, goInt } from '../go/value.js';

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

/** time.Month: prints as its name. */
export class GoMonth {
  constructor(readonly value: number) {}
  String(): string {
    return MONTHS[this.value - 1] ?? `%!Month(${this.value})`;
  }
  toString(): string {
    return this.String();
  }
}
Object.defineProperty(GoMonth.prototype, GO_TYPE, { value: 'time.Month' });
Object.defineProperty(GoMonth.prototype, GO_METHODS, { value: { String: { params: [] } } });

/** time.Weekday: prints as its name. */
export class GoWeekday {
  constructor(readonly value: number) {}
  String(): string {
    return DAYS[this.value] ?? `%!Weekday(${this.value})`;
  }
  toString(): string {
    return this.String();
  }
}
Object.defineProperty(GoWeekday.prototype, GO_TYPE, { value: 'time.Weekday' });
Object.defineProperty(GoWeekday.prototype, GO_METHODS, { value: { String: { params: [] } } });

// The zone Go's time.Local uses: $TZ (":" stripped; absolute path or a name under
// /usr/share/zoneinfo; "" or "UTC" is UTC), /etc/localtime when TZ is unset; UTC if unreadable.
function localZoneFile(): string | null {
  const tz = process.env.TZ;
  if (tz === undefined) return '/etc/localtime';
  let t = tz.startsWith(':') ? tz.slice(1) : tz;
  if (t === '' || t === 'UTC') return null;
  if (t.startsWith('/')) return t;
  const dirs = process.env.ZONEINFO ? [process.env.ZONEINFO, '/usr/share/zoneinfo'] : ['/usr/share/zoneinfo'];
  for (const d of dirs) {
    const f = `${d}/${t}`;
    if (existsSync(f)) return f;
  }
  return null;
}

interface ZoneInfo {
  transitions: number[]; // seconds
  types: number[]; // index into ttinfo per transition
  ttinfo: Array<{ utoff: number; abbr: string }>;
  footerNames: string[]; // std, dst names of the POSIX TZ footer
}

let zoneCache: ZoneInfo | null | undefined;

// TZif (RFC 8536): the 64-bit data block when there is one, and the footer's zone names.
function loadZone(): ZoneInfo | null {
  if (zoneCache !== undefined) return zoneCache;
  zoneCache = null;
  const file = localZoneFile();
  if (file === null) return null;
  try {
    const b = readFileSync(file);
    if (b.toString('latin1', 0, 4) !== 'TZif') return null;
    const header = (off: number) => {
      const c = (i: number) => b.readUInt32BE(off + 20 + i * 4);
      return { isut: c(0), isstd: c(1), leap: c(2), time: c(3), type: c(4), char: c(5) };
    };
    let off = 0;
    let h = header(0);
    let tsize = 4;
    const version = b[4]!;
    if (version >= 0x32) {
      off = 44 + h.time * 5 + h.type * 6 + h.char + h.leap * 8 + h.isstd + h.isut;
      h = header(off);
      tsize = 8;
    }
    let p = off + 44;
    const transitions: number[] = [];
    for (let i = 0; i < h.time; i++, p += tsize) transitions.push(tsize === 8 ? Number(b.readBigInt64BE(p)) : b.readInt32BE(p));
    const types: number[] = [];
    for (let i = 0; i < h.time; i++) types.push(b[p++]!);
    const raw: Array<{ utoff: number; idx: number }> = [];
    for (let i = 0; i < h.type; i++, p += 6) raw.push({ utoff: b.readInt32BE(p), idx: b[p + 5]! });
    const chars = b.toString('latin1', p, p + h.char);
    const ttinfo = raw.map((r) => ({ utoff: r.utoff, abbr: chars.slice(r.idx, chars.indexOf('\0', r.idx)) }));
    p += h.char + h.leap * (tsize + 4) + h.isstd + h.isut;
    const footer = tsize === 8 ? b.toString('latin1', p).trim() : '';
    const footerNames = [...footer.matchAll(/<([^>]*)>|([A-Za-z]{3,})/g)].slice(0, 2).map((m) => m[1] ?? m[2]!);
    zoneCache = { transitions, types, ttinfo, footerNames };
  } catch {
    zoneCache = null;
  }
  return zoneCache;
}

/** Go's zone abbreviation for an instant with the given offset (from the zone's tzdata). */
function zoneName(ms: number, offsetSec: number, utc: boolean): string {
  if (utc) return 'UTC';
  const z = loadZone();
  if (z === null) return offsetSec === 0 ? 'UTC' : numericZone(offsetSec);
  const sec = Math.floor(ms / 1000);
  let i = z.transitions.length - 1;
  while (i >= 0 && z.transitions[i]! > sec) i--;
  if (i >= 0 && i < z.transitions.length - 1) {
    const t = z.ttinfo[z.types[i]!];
    if (t && t.utoff === offsetSec) return t.abbr;
  }
  // After the last transition the footer rule applies; before the first, the first type.
  const byOffset = z.ttinfo.filter((t) => t.utoff === offsetSec).map((t) => t.abbr);
  for (const name of z.footerNames) if (byOffset.includes(name)) return name;
  if (i >= 0) {
    const t = z.ttinfo[z.types[i]!];
    if (t && t.utoff === offsetSec) return t.abbr;
  }
  return byOffset[byOffset.length - 1] ?? numericZone(offsetSec);
}

function numericZone(offsetSec: number): string {
  const sign = offsetSec < 0 ? '-' : '+';
  const a = Math.abs(offsetSec);
  const h = String(Math.floor(a / 3600)).padStart(2, '0');
  const m = Math.floor((a % 3600) / 60);
  return sign + h + (m ? String(m).padStart(2, '0') : '');
}

export class GoTime {
  /** ms since the epoch (integer) */
  private readonly ms: number;
  /** nanoseconds within the millisecond */
  private readonly subNanos: number;
  private readonly offset: number;
  private readonly zone: string;
  private readonly utc: boolean;
  private readonly mono: number | null;

  constructor(ms: number, subNanos = 0, opts: { utc?: boolean; mono?: number | null } = {}) {
    this.ms = Math.floor(ms);
    this.subNanos = subNanos;
    this.utc = opts.utc ?? false;
    this.offset = this.utc ? 0 : -new Date(this.ms).getTimezoneOffset() * 60;
    this.zone = zoneName(this.ms, this.offset, this.utc);
    this.mono = opts.mono ?? null;
  }

  /** time.Now(), with a monotonic reading. */
  static now(): GoTime {
    const t = performance.timeOrigin + performance.now();
    const ms = Math.floor(t);
    const sub = Math.round((t - ms) * 1e6) % 1e6;
    return new GoTime(ms, sub, { mono: Math.round(performance.now() * 1e6) });
  }

  private local(): Date {
    return new Date(this.ms + this.offset * 1000);
  }

  Year(): number {
    return this.local().getUTCFullYear();
  }
  Month(): GoMonth {
    return new GoMonth(this.local().getUTCMonth() + 1);
  }
  Day(): number {
    return this.local().getUTCDate();
  }
  Hour(): number {
    return this.local().getUTCHours();
  }
  Minute(): number {
    return this.local().getUTCMinutes();
  }
  Second(): number {
    return this.local().getUTCSeconds();
  }
  Nanosecond(): number {
    return (((this.ms % 1000) + 1000) % 1000) * 1e6 + this.subNanos;
  }
  YearDay(): number {
    const d = this.local();
    return Math.floor((Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()) - Date.UTC(d.getUTCFullYear(), 0, 1)) / 86400000) + 1;
  }
  Weekday(): GoWeekday {
    return new GoWeekday(this.local().getUTCDay());
  }
  Unix(): number {
    return Math.floor(this.ms / 1000);
  }
  UnixMilli(): number {
    return this.ms;
  }
  UnixMicro(): number {
    return this.ms * 1000 + Math.floor(this.subNanos / 1000);
  }
  UnixNano(): number | bigint {
    return goInt(BigInt(this.ms) * 1_000_000n + BigInt(this.subNanos));
  }
  UTC(): GoTime {
    return new GoTime(this.ms, this.subNanos, { utc: true });
  }
  Local(): GoTime {
    return new GoTime(this.ms, this.subNanos);
  }
  IsZero(): boolean {
    return false;
  }
  Before(u: GoTime): boolean {
    return this.UnixNano() < u.UnixNano();
  }
  After(u: GoTime): boolean {
    return this.UnixNano() > u.UnixNano();
  }
  Equal(u: GoTime): boolean {
    return this.UnixNano() === u.UnixNano();
  }

  Format(layout: string): string {
    return formatTime(this, layout, this.local(), this.offset, this.zone);
  }

  String(): string {
    let s = this.Format('2006-01-02 15:04:05.999999999 -0700 MST');
    if (this.mono !== null) {
      const sign = this.mono < 0 ? '-' : '+';
      const m = Math.abs(this.mono);
      s += ` m=${sign}${Math.floor(m / 1e9)}.${String(m % 1e9).padStart(9, '0')}`;
    }
    return s;
  }

  toString(): string {
    return this.String();
  }
}
Object.defineProperty(GoTime.prototype, GO_TYPE, { value: 'time.Time' });
Object.defineProperty(GoTime.prototype, GO_METHODS, {
  value: {
    Year: { params: [] }, Month: { params: [] }, Day: { params: [] }, Hour: { params: [] }, Minute: { params: [] },
    Second: { params: [] }, Nanosecond: { params: [] }, YearDay: { params: [] }, Weekday: { params: [] },
    Unix: { params: [] }, UnixMilli: { params: [] }, UnixMicro: { params: [] }, UnixNano: { params: [] },
    UTC: { params: [] }, Local: { params: [] }, IsZero: { params: [] }, String: { params: [] },
    Format: { params: ['string'] }, Before: { params: ['time.Time'] }, After: { params: ['time.Time'] }, Equal: { params: ['time.Time'] },
  },
});

const pad = (n: number, w: number): string => {
  const neg = n < 0;
  const s = String(Math.abs(n)).padStart(w, '0');
  return neg ? '-' + s : s;
};

const startsWithLower = (s: string) => s.length > 0 && s.charCodeAt(0) >= 0x61 && s.charCodeAt(0) <= 0x7a;
const isDigitAt = (s: string, i: number) => i < s.length && s.charCodeAt(i) >= 0x30 && s.charCodeAt(i) <= 0x39;

type Std =
  | 'LongMonth' | 'Month' | 'NumMonth' | 'ZeroMonth' | 'LongWeekDay' | 'WeekDay' | 'Day' | 'UnderDay' | 'ZeroDay'
  | 'UnderYearDay' | 'ZeroYearDay' | 'Hour' | 'Hour12' | 'ZeroHour12' | 'Minute' | 'ZeroMinute' | 'Second'
  | 'ZeroSecond' | 'LongYear' | 'Year' | 'PM' | 'pm' | 'TZ' | 'ISO8601TZ' | 'ISO8601SecondsTZ' | 'ISO8601ShortTZ'
  | 'ISO8601ColonTZ' | 'ISO8601ColonSecondsTZ' | 'NumTZ' | 'NumSecondsTz' | 'NumShortTZ' | 'NumColonTZ'
  | 'NumColonSecondsTZ' | 'Frac0' | 'Frac9';

interface Chunk {
  prefix: string;
  std: Std | null;
  suffix: string;
  digits?: number;
  sep?: string;
}

const STD0X: Std[] = ['ZeroMonth', 'ZeroDay', 'ZeroHour12', 'ZeroMinute', 'ZeroSecond', 'Year'];

// time.nextStdChunk
function nextStdChunk(layout: string): Chunk {
  const at = (i: number, s: string) => layout.startsWith(s, i);
  for (let i = 0; i < layout.length; i++) {
    const c = layout[i];
    const pre = layout.slice(0, i);
    switch (c) {
      case 'J':
        if (at(i, 'Jan')) {
          if (at(i, 'January')) return { prefix: pre, std: 'LongMonth', suffix: layout.slice(i + 7) };
          if (!startsWithLower(layout.slice(i + 3))) return { prefix: pre, std: 'Month', suffix: layout.slice(i + 3) };
        }
        break;
      case 'M':
        if (at(i, 'Mon')) {
          if (at(i, 'Monday')) return { prefix: pre, std: 'LongWeekDay', suffix: layout.slice(i + 6) };
          if (!startsWithLower(layout.slice(i + 3))) return { prefix: pre, std: 'WeekDay', suffix: layout.slice(i + 3) };
        }
        if (at(i, 'MST')) return { prefix: pre, std: 'TZ', suffix: layout.slice(i + 3) };
        break;
      case '0': {
        const d = layout.charCodeAt(i + 1);
        if (d >= 0x31 && d <= 0x36) return { prefix: pre, std: STD0X[d - 0x31]!, suffix: layout.slice(i + 2) };
        if (at(i, '002')) return { prefix: pre, std: 'ZeroYearDay', suffix: layout.slice(i + 3) };
        break;
      }
      case '1':
        if (at(i, '15')) return { prefix: pre, std: 'Hour', suffix: layout.slice(i + 2) };
        return { prefix: pre, std: 'NumMonth', suffix: layout.slice(i + 1) };
      case '2':
        if (at(i, '2006')) return { prefix: pre, std: 'LongYear', suffix: layout.slice(i + 4) };
        return { prefix: pre, std: 'Day', suffix: layout.slice(i + 1) };
      case '_':
        if (layout[i + 1] === '2') {
          if (at(i + 1, '2006')) return { prefix: layout.slice(0, i + 1), std: 'LongYear', suffix: layout.slice(i + 5) };
          return { prefix: pre, std: 'UnderDay', suffix: layout.slice(i + 2) };
        }
        if (at(i, '__2')) return { prefix: pre, std: 'UnderYearDay', suffix: layout.slice(i + 3) };
        break;
      case '3':
        return { prefix: pre, std: 'Hour12', suffix: layout.slice(i + 1) };
      case '4':
        return { prefix: pre, std: 'Minute', suffix: layout.slice(i + 1) };
      case '5':
        return { prefix: pre, std: 'Second', suffix: layout.slice(i + 1) };
      case 'P':
        if (layout[i + 1] === 'M') return { prefix: pre, std: 'PM', suffix: layout.slice(i + 2) };
        break;
      case 'p':
        if (layout[i + 1] === 'm') return { prefix: pre, std: 'pm', suffix: layout.slice(i + 2) };
        break;
      case '-':
        if (at(i, '-070000')) return { prefix: pre, std: 'NumSecondsTz', suffix: layout.slice(i + 7) };
        if (at(i, '-07:00:00')) return { prefix: pre, std: 'NumColonSecondsTZ', suffix: layout.slice(i + 9) };
        if (at(i, '-0700')) return { prefix: pre, std: 'NumTZ', suffix: layout.slice(i + 5) };
        if (at(i, '-07:00')) return { prefix: pre, std: 'NumColonTZ', suffix: layout.slice(i + 6) };
        if (at(i, '-07')) return { prefix: pre, std: 'NumShortTZ', suffix: layout.slice(i + 3) };
        break;
      case 'Z':
        if (at(i, 'Z070000')) return { prefix: pre, std: 'ISO8601SecondsTZ', suffix: layout.slice(i + 7) };
        if (at(i, 'Z07:00:00')) return { prefix: pre, std: 'ISO8601ColonSecondsTZ', suffix: layout.slice(i + 9) };
        if (at(i, 'Z0700')) return { prefix: pre, std: 'ISO8601TZ', suffix: layout.slice(i + 5) };
        if (at(i, 'Z07:00')) return { prefix: pre, std: 'ISO8601ColonTZ', suffix: layout.slice(i + 6) };
        if (at(i, 'Z07')) return { prefix: pre, std: 'ISO8601ShortTZ', suffix: layout.slice(i + 3) };
        break;
      case '.':
      case ',':
        if (layout[i + 1] === '0' || layout[i + 1] === '9') {
          const ch = layout[i + 1];
          let j = i + 1;
          while (j < layout.length && layout[j] === ch) j++;
          if (!isDigitAt(layout, j)) {
            return { prefix: pre, std: ch === '0' ? 'Frac0' : 'Frac9', suffix: layout.slice(j), digits: j - (i + 1), sep: c };
          }
        }
        break;
    }
  }
  return { prefix: layout, std: null, suffix: '' };
}

function formatTime(t: GoTime, layout: string, d: Date, offset: number, name: string): string {
  let b = '';
  const year = d.getUTCFullYear();
  const month = d.getUTCMonth() + 1;
  const day = d.getUTCDate();
  const hour = d.getUTCHours();
  const min = d.getUTCMinutes();
  const sec = d.getUTCSeconds();
  while (layout !== '') {
    const ch = nextStdChunk(layout);
    b += ch.prefix;
    if (ch.std === null) break;
    layout = ch.suffix;
    switch (ch.std) {
      case 'Year':
        b += pad(Math.abs(year) % 100, 2);
        break;
      case 'LongYear':
        b += pad(year, 4);
        break;
      case 'Month':
        b += MONTHS[month - 1]!.slice(0, 3);
        break;
      case 'LongMonth':
        b += MONTHS[month - 1];
        break;
      case 'NumMonth':
        b += month;
        break;
      case 'ZeroMonth':
        b += pad(month, 2);
        break;
      case 'WeekDay':
        b += DAYS[d.getUTCDay()]!.slice(0, 3);
        break;
      case 'LongWeekDay':
        b += DAYS[d.getUTCDay()];
        break;
      case 'Day':
        b += day;
        break;
      case 'UnderDay':
        b += (day < 10 ? ' ' : '') + day;
        break;
      case 'ZeroDay':
        b += pad(day, 2);
        break;
      case 'UnderYearDay': {
        const yd = t.YearDay();
        b += (yd < 100 ? (yd < 10 ? '  ' : ' ') : '') + yd;
        break;
      }
      case 'ZeroYearDay':
        b += pad(t.YearDay(), 3);
        break;
      case 'Hour':
        b += pad(hour, 2);
        break;
      case 'Hour12':
        b += hour % 12 === 0 ? 12 : hour % 12;
        break;
      case 'ZeroHour12':
        b += pad(hour % 12 === 0 ? 12 : hour % 12, 2);
        break;
      case 'Minute':
        b += min;
        break;
      case 'ZeroMinute':
        b += pad(min, 2);
        break;
      case 'Second':
        b += sec;
        break;
      case 'ZeroSecond':
        b += pad(sec, 2);
        break;
      case 'PM':
        b += hour >= 12 ? 'PM' : 'AM';
        break;
      case 'pm':
        b += hour >= 12 ? 'pm' : 'am';
        break;
      case 'TZ':
        if (name !== '') {
          b += name;
        } else {
          let zone = Math.trunc(offset / 60);
          b += zone < 0 ? '-' : '+';
          zone = Math.abs(zone);
          b += pad(Math.trunc(zone / 60), 2) + pad(zone % 60, 2);
        }
        break;
      case 'Frac0':
      case 'Frac9': {
        let digits = String(t.Nanosecond()).padStart(9, '0');
        let n = Math.min(ch.digits!, 9);
        if (ch.std === 'Frac9') {
          while (n > 0 && digits[n - 1] === '0') n--;
          if (n === 0) break;
        }
        b += ch.sep! + digits.slice(0, n);
        break;
      }
      default: {
        // numeric zones
        const std = ch.std;
        const iso = std.startsWith('ISO8601');
        if (offset === 0 && iso) {
          b += 'Z';
          break;
        }
        let zone = Math.trunc(offset / 60);
        let absoffset = offset;
        if (zone < 0) {
          b += '-';
          zone = -zone;
          absoffset = -absoffset;
        } else {
          b += '+';
        }
        b += pad(Math.trunc(zone / 60), 2);
        if (std === 'ISO8601ColonTZ' || std === 'NumColonTZ' || std === 'ISO8601ColonSecondsTZ' || std === 'NumColonSecondsTZ') b += ':';
        if (std !== 'NumShortTZ' && std !== 'ISO8601ShortTZ') b += pad(zone % 60, 2);
        if (std === 'ISO8601SecondsTZ' || std === 'NumSecondsTz' || std === 'NumColonSecondsTZ' || std === 'ISO8601ColonSecondsTZ') {
          if (std === 'NumColonSecondsTZ' || std === 'ISO8601ColonSecondsTZ') b += ':';
          b += pad(absoffset % 60, 2);
        }
      }
    }
  }
  return b;
}
