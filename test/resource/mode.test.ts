import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMode, parseUint0, modeString } from '../../src/resource/mode.js';

test('mode strings read as strconv.ParseUint(s, 0, 32) (quirk 43 table)', () => {
  const table: Array<[string, number]> = [
    ['0600', 0o600],
    ['0644', 0o644],
    ['644', 0o204], // decimal 644 = 0o1204
    ['0o640', 0o640],
    ['0O640', 0o640],
    ['1000', 0o750], // decimal 1000 = 0o1750
    ['04755', 0o755], // setuid dropped
    ['0x1a4', 0o644],
    ['0X1A4', 0o644],
    ['01777', 0o777], // sticky dropped
    ['0b110100100', 0o644],
    ['0', 0],
    ['0_644', 0o644],
  ];
  for (const [text, perm] of table) assert.equal(parseMode(text).perm, perm, text);
});

test('invalid modes give Go\'s error text', () => {
  for (const text of ['rw', '0999', '08', '+644', '-1', ' 644', '0x', '0o', '64_', '6__4', '']) {
    assert.throws(() => parseMode(text), { message: `strconv.ParseUint: parsing ${JSON.stringify(text)}: invalid syntax` }, text);
  }
  assert.throws(() => parseUint0('4294967296'), { message: 'strconv.ParseUint: parsing "4294967296": value out of range' });
  assert.equal(parseUint0('4294967295'), 4294967295);
});

test('a decimal-looking mode gets a warning; octal and prefixed ones do not', () => {
  assert.match(parseMode('644').decimalWarning ?? '', /decimal.*0204.*"0644"/);
  assert.match(parseMode('1000').decimalWarning ?? '', /decimal/);
  for (const text of ['0644', '0o644', '0x1a4', '999', '12']) assert.equal(parseMode(text).decimalWarning, undefined, text);
});

test('modeString prints like Go os.FileMode', () => {
  assert.equal(modeString(0o644), '-rw-r--r--');
  assert.equal(modeString(0o750), '-rwxr-x---');
});
