import { test } from 'node:test';
import assert from 'node:assert/strict';
import { requiredKeys } from '../../src/resource/model.js';

test('requiredKeys: allow_empty lifts the guard, min_keys sets it, else the caller\'s default', () => {
  assert.equal(requiredKeys({ allowEmpty: false, minKeys: undefined }, 0), 0); // a onetime pass, as confd
  assert.equal(requiredKeys({ allowEmpty: false, minKeys: undefined }, 1), 1); // -watch, keys at start-up
  assert.equal(requiredKeys({ allowEmpty: false, minKeys: 5 }, 1), 5);
  assert.equal(requiredKeys({ allowEmpty: false, minKeys: 0 }, 1), 0);
  assert.equal(requiredKeys({ allowEmpty: true, minKeys: 5 }, 1), 0);
});
