// The contract's schemas and their one-line errors: malformed requests,
// responses and events are refused with a message that names the message,
// the field and what was wrong; the lists repeated from other folders
// (link states, LED states, formats) match their originals.
import * as assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  ContractError,
  DEFAULT_SETTINGS,
  EVENT_NAMES,
  LINK_STATES,
  REQUEST_NAMES,
  SESSION_STATES,
  Settings,
  checkEvent,
  events,
  ipcChannel,
  isEventName,
  isRequestName,
  parseEvent,
  parseRequest,
  parseResponse,
  requests,
} from '../../common/contract';
import { KV_FORMATS, WEIGHT_FORMATS } from '../../common/formats';
import { LED_STATES, LINK_STATES as BRIDGE_LINK_STATES } from '../../firmware-bridge';

function refused(fn: () => unknown, message: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ContractError, `not a ContractError: ${String(e)}`);
    assert.equal(e.message, message);
    assert.ok(!e.message.includes('\n'), 'one line');
    return true;
  });
}

test('a request with a field of the wrong type names the request, the field and the type', () => {
  refused(() => parseRequest('generate', { prompt: 42 }), "contract: request 'generate': field prompt: expected string, got number");
  refused(() => parseRequest('generate', {}), "contract: request 'generate': field prompt: expected string, missing");
  refused(() => parseRequest('generate', 'hello'), "contract: request 'generate': payload: expected object, got string");
  refused(() => parseRequest('generate', null), "contract: request 'generate': payload: expected object, got null");
});

test('unknown fields, out-of-range and unknown choices are refused, nested paths included', () => {
  refused(() => parseRequest('generate', { prompt: 'x', admin: true }), "contract: request 'generate': payload: unknown field admin");
  refused(() => parseRequest('generate', { prompt: '' }), "contract: request 'generate': field prompt: too small (minimum 1 characters)");
  refused(() => parseRequest('settings.set', { patch: { kv: 'int9' } }), `contract: request 'settings.set': field patch.kv: expected one of "f16", "int8", "fp8", "fp8-e4m3", "fp8-e5m2"`);
  refused(() => parseRequest('settings.set', { patch: { threads: -1 } }), "contract: request 'settings.set': field patch.threads: too small (minimum 0)");
  // top_p > 0: 0 is not allowed, so 0 is no minimum.
  refused(() => parseRequest('settings.set', { patch: { top_p: 0 } }), "contract: request 'settings.set': field patch.top_p: too small (must be above 0)");
  refused(() => parseRequest('settings.set', { patch: { colour: 'red' } }), "contract: request 'settings.set': field patch: unknown field colour");
  refused(() => parseRequest('history.list', { limit: 1.5 }), "contract: request 'history.list': field limit: expected an integer, got 1.5");
  refused(() => parseRequest('key.press', { source: 'keyboard' }), `contract: request 'key.press': field source: expected one of "screen", "shortcut"`);
});

test('names outside the contract are refused, whatever their type', () => {
  refused(() => parseRequest('shell.exec', {}), "contract: unknown request 'shell.exec'");
  refused(() => parseRequest(7, {}), 'contract: unknown request name of type number');
  refused(() => parseRequest('__proto__', {}), "contract: unknown request '__proto__'");
  refused(() => parseRequest('toString', {}), "contract: unknown request 'toString'");
  refused(() => parseEvent('reply.tokens', {}), "contract: unknown event 'reply.tokens'");
  assert.ok(!isRequestName('constructor') && !isEventName('hasOwnProperty'));
});

test('responses and events are checked the same way (the UI end)', () => {
  refused(() => parseResponse('cancel', { cancelled: 'yes' }), "contract: response 'cancel': field cancelled: expected boolean, got string");
  refused(
    () => parseEvent('reply.token', { press_id: 'p1', index: -1, text: 'a', t_ms: 1 }),
    "contract: event 'reply.token': field index: too small (minimum 0)",
  );
  refused(
    () => parseEvent('telemetry', { available: true, t_ms: 1, gpu: 'x', power_w: 'hot' }),
    "contract: event 'telemetry': field power_w: expected number, got string",
  );
  refused(() => parseEvent('telemetry', { available: 'maybe', t_ms: 1 }), "contract: event 'telemetry': field available: matches none of the allowed shapes");
});

test('well-formed messages pass and come back as they went in', () => {
  assert.deepEqual(parseRequest('generate', { prompt: 'hi' }).payload, { prompt: 'hi' });
  const unavailable = { available: false, t_ms: 5, reason: 'no NVIDIA driver' } as const;
  assert.deepEqual(checkEvent('telemetry', unavailable), unavailable);
  const reading = { available: true, t_ms: 5, gpu: 'RTX 4060', power_w: 41.5, power_limit_w: 80, temp_c: 61, fan_pct: null, sm_clock_mhz: 2100, mem_clock_mhz: 8000, mem_used_mb: 5100 } as const;
  assert.deepEqual(checkEvent('telemetry', reading), reading);
  assert.deepEqual(parseResponse('settings.get', DEFAULT_SETTINGS).payload, DEFAULT_SETTINGS);
  const done = { press_id: 'p1', completion: '', thinking: '', stop: 'cancelled', timings: null } as const;
  assert.deepEqual(checkEvent('reply.done', done), done);
});

test('every request and event has its schemas, and IPC channels are distinct', () => {
  assert.ok(REQUEST_NAMES.length >= 14);
  for (const name of REQUEST_NAMES) {
    assert.ok(requests[name].request !== undefined && requests[name].response !== undefined, name);
  }
  for (const name of EVENT_NAMES) assert.ok(events[name] !== undefined, name);
  const channels = [...REQUEST_NAMES, ...EVENT_NAMES].map(ipcChannel);
  assert.equal(new Set(channels).size, channels.length, 'a request and an event share a name');
});

test('lists repeated from firmware-bridge and common/formats match their originals', () => {
  assert.deepEqual([...LINK_STATES], [...BRIDGE_LINK_STATES]);
  // The keyboard's LED shows the session's state by name.
  assert.deepEqual([...SESSION_STATES], [...LED_STATES]);
  assert.deepEqual([...Settings.shape.kv.options], [...KV_FORMATS]);
  assert.deepEqual([...Settings.shape.weights.options], [...WEIGHT_FORMATS]);
});

test('the default settings are valid settings', () => {
  assert.deepEqual(Settings.parse(DEFAULT_SETTINGS), DEFAULT_SETTINGS);
});
