// The Settings form's checks: the contract's schema, said in words.
import * as assert from 'node:assert/strict';
import { test } from 'node:test';

import { DEFAULT_SETTINGS, type Settings } from '../../../common/contract';
import { validateSettings } from '../../../renderer/store/settings-validation';

const draft = (over: Partial<Record<keyof Settings, unknown>>): Settings => ({ ...DEFAULT_SETTINGS, ...over }) as Settings;

test('the defaults are valid', () => {
  assert.deepEqual(validateSettings(DEFAULT_SETTINGS), {});
});

test('each kind of mistake is said in words under its own field', () => {
  assert.deepEqual(validateSettings(draft({ max_tokens: 0 })), { max_tokens: 'At least 1' });
  assert.deepEqual(validateSettings(draft({ max_tokens: 5000 })), { max_tokens: 'At most 4096' });
  assert.deepEqual(validateSettings(draft({ threads: 1.5 })), { threads: 'A whole number is needed' });
  assert.deepEqual(validateSettings(draft({ temperature: NaN })), { temperature: 'A number is needed' });
  assert.deepEqual(validateSettings(draft({ top_p: 0 })), { top_p: 'Must be more than 0' });
  assert.deepEqual(validateSettings(draft({ persona: 'x'.repeat(8001) })), { persona: 'At most 8000 characters' });
  assert.deepEqual(validateSettings(draft({ serial_port: '' })), { serial_port: 'Cannot be empty' });
  assert.deepEqual(validateSettings(draft({ kv: 'q2' })), { kv: 'Not one of the choices' });
});

test('several invalid fields give one message each', () => {
  const errors = validateSettings(draft({ max_tokens: -1, seed: -1, top_k: 1.5 }));
  assert.deepEqual(Object.keys(errors).sort(), ['max_tokens', 'seed', 'top_k']);
});
