// The WebSocket envelope and the UI-side client (WireClient): a malformed
// request never leaves the UI, a malformed response rejects the request
// with a contract error, a malformed event is dropped and reported, and a
// closed connection fails what is waiting instead of leaving it hanging.
import * as assert from 'node:assert/strict';
import { test } from 'node:test';

import { ContractError, DEFAULT_SETTINGS, type WireRequest, WireClient, parseWire } from '../../common/contract';

class Recorder {
  readonly sent: WireRequest[] = [];
  send(text: string): void {
    this.sent.push(JSON.parse(text) as WireRequest);
  }
}

function client(): { c: WireClient; socket: Recorder; problems: Error[] } {
  const socket = new Recorder();
  const problems: Error[] = [];
  return { c: new WireClient(socket, (e) => problems.push(e)), socket, problems };
}

test('a malformed request is refused before anything is sent', async () => {
  const { c, socket } = client();
  // @ts-expect-error: the type system refuses it too; the check holds for untyped callers.
  await assert.rejects(c.request('generate', { prompt: 1 }), /^ContractError: contract: request 'generate': field prompt: expected string, got number$/);
  // @ts-expect-error: not a request of the contract
  await assert.rejects(c.request('rm -rf', {}), /contract: unknown request 'rm -rf'/);
  assert.equal(socket.sent.length, 0);
});

test('a response is matched by id and validated', async () => {
  const { c, socket } = client();
  const settings = c.request('settings.get', {});
  const cancel = c.request('cancel', {});
  assert.deepEqual(
    socket.sent.map((m) => [m.kind, m.name]),
    [
      ['request', 'settings.get'],
      ['request', 'cancel'],
    ],
  );
  const [first, second] = socket.sent;
  c.receive(JSON.stringify({ kind: 'response', id: second?.id, ok: true, result: { cancelled: 'no' } }));
  c.receive(JSON.stringify({ kind: 'response', id: first?.id, ok: true, result: DEFAULT_SETTINGS }));
  assert.deepEqual(await settings, DEFAULT_SETTINGS);
  await assert.rejects(cancel, (e: unknown) => e instanceof ContractError && e.message === "contract: response 'cancel': field cancelled: expected boolean, got string");
});

test("the host's error rejects with its message", async () => {
  const { c, socket } = client();
  const p = c.request('generate', { prompt: 'hi' });
  c.receive(JSON.stringify({ kind: 'response', id: socket.sent[0]?.id, ok: false, error: 'generate: a reply is in progress (cancel it first)' }));
  await assert.rejects(p, /^Error: generate: a reply is in progress \(cancel it first\)$/);
});

test('events reach their listeners validated; malformed ones are dropped and reported', () => {
  const { c, problems } = client();
  const seen: string[] = [];
  const off = c.on('reply.token', (t) => seen.push(t.text));
  c.receive(JSON.stringify({ kind: 'event', name: 'reply.token', payload: { press_id: 'p', index: 0, text: 'Once', t_ms: 1 } }));
  c.receive(JSON.stringify({ kind: 'event', name: 'reply.token', payload: { press_id: 'p', index: 1, text: 5, t_ms: 2 } }));
  c.receive(JSON.stringify({ kind: 'event', name: 'nonsense', payload: {} }));
  c.receive('{not json');
  c.receive(JSON.stringify({ kind: 'response', id: 999, ok: true, result: {} }));
  off();
  c.receive(JSON.stringify({ kind: 'event', name: 'reply.token', payload: { press_id: 'p', index: 2, text: ' upon', t_ms: 3 } }));
  assert.deepEqual(seen, ['Once']);
  assert.deepEqual(
    problems.map((p) => p.message),
    [
      "contract: event 'reply.token': field text: expected string, got number",
      "contract: unknown event 'nonsense'",
      'contract: message: not JSON',
      'contract: response to unknown request id 999',
    ],
  );
});

test('closing fails pending requests and every later one', async () => {
  const { c } = client();
  const pending = c.request('state.get', {});
  c.close('connection to the host closed');
  await assert.rejects(pending, /request 'state.get': connection to the host closed/);
  await assert.rejects(c.request('cancel', {}), /request 'cancel': connection to the host closed/);
});

test('parseWire accepts the three envelopes and nothing else', () => {
  assert.equal(parseWire('{"kind":"request","id":1,"name":"cancel","payload":{}}').kind, 'request');
  assert.equal(parseWire('{"kind":"event","name":"key","payload":{}}').kind, 'event');
  assert.throws(() => parseWire('{"kind":"request","id":-1,"name":"cancel","payload":{}}'), /not a request, response or event envelope/);
  assert.throws(() => parseWire('{"kind":"request","id":1,"name":"cancel","payload":{},"extra":1}'), /envelope/);
  assert.throws(() => parseWire('[]'), /envelope/);
});
