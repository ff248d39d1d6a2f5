// The WebSocket transport: the token travels from the page URL to the
// socket URL, listeners survive a reconnect, and a message from the host that
// breaks the contract is reported and dropped, not delivered.
import * as assert from 'node:assert/strict';
import { test } from 'node:test';

import { WS_PATH, type SessionStatus } from '../../../common/contract';
import { WsHost, socketUrl, type WsState } from '../../../renderer/transport/ws';
import { deviceStatus } from '../fake-host';

/** Just enough of a browser WebSocket for WsHost. */
class FakeSocket {
  readonly sent: string[] = [];
  private readonly handlers = new Map<string, ((e: unknown) => void)[]>();
  constructor(readonly url: string) {}
  addEventListener(type: string, fn: (e: unknown) => void): void {
    this.handlers.set(type, [...(this.handlers.get(type) ?? []), fn]);
  }
  send(text: string): void {
    this.sent.push(text);
  }
  fire(type: string, e: unknown = {}): void {
    for (const fn of this.handlers.get(type) ?? []) fn(e);
  }
  message(obj: unknown): void {
    this.fire('message', { data: typeof obj === 'string' ? obj : JSON.stringify(obj) });
  }
}

function harness() {
  const sockets: FakeSocket[] = [];
  const states: [WsState, string | null][] = [];
  const problems: string[] = [];
  const host = new WsHost({
    pageUrl: 'http://127.0.0.1:4321/?token=s3cr%2Bt',
    onState: (s, m) => states.push([s, m]),
    onProblem: (e) => problems.push(e.message),
    createSocket: (url) => {
      const s = new FakeSocket(url);
      sockets.push(s);
      return s as unknown as WebSocket;
    },
  });
  return { host, sockets, states, problems };
}

test('socketUrl carries the page token to the same host and port', () => {
  assert.equal(socketUrl('http://127.0.0.1:4321/?token=abc'), `ws://127.0.0.1:4321${WS_PATH}?token=abc`);
  assert.equal(socketUrl('http://127.0.0.1:4321/?token=a%2Bb%20c'), `ws://127.0.0.1:4321${WS_PATH}?token=a%2Bb%20c`);
  assert.throws(() => socketUrl('http://127.0.0.1:4321/'), /no token in the page address/);
  assert.throws(() => socketUrl('http://127.0.0.1:4321/?token='), /no token in the page address/);
});

test('requests wait for the socket, go out in the envelope, and resolve with the validated answer', async () => {
  const { host, sockets, states } = harness();
  assert.equal(sockets[0]?.url, `ws://127.0.0.1:4321${WS_PATH}?token=s3cr%2Bt`);
  await assert.rejects(host.request('cancel', {}), /not connected to the host/);
  sockets[0]?.fire('open');
  assert.deepEqual(states, [
    ['connecting', null],
    ['open', null],
  ]);
  const answer = host.request('key.press', { source: 'screen' });
  const sent = JSON.parse(sockets[0]?.sent[0] ?? '{}') as { id: number };
  assert.deepEqual(sent, { kind: 'request', id: sent.id, name: 'key.press', payload: { source: 'screen' } });
  const session: SessionStatus = { state: 'listening', press_id: 'p1', typed: '', message: null };
  sockets[0]?.message({ kind: 'response', id: sent.id, ok: true, result: session });
  assert.deepEqual(await answer, session);
  host.stop();
});

test('a response that breaks the contract rejects the request with a clear error', async () => {
  const { host, sockets } = harness();
  sockets[0]?.fire('open');
  const answer = host.request('key.press', { source: 'screen' });
  const { id } = JSON.parse(sockets[0]?.sent[0] ?? '{}') as { id: number };
  sockets[0]?.message({ kind: 'response', id, ok: true, result: { state: 'dancing', press_id: null, typed: '', message: null } });
  await assert.rejects(answer, /^ContractError: contract: response 'key\.press': field state: expected one of/);
  host.stop();
});

test('events reach listeners across a reconnect; bad events are reported and dropped', async () => {
  const { host, sockets, states, problems } = harness();
  const seen: string[] = [];
  host.on('device', (d) => seen.push(d.state));
  sockets[0]?.fire('open');
  sockets[0]?.message({ kind: 'event', name: 'device', payload: deviceStatus() });
  sockets[0]?.message({ kind: 'event', name: 'device', payload: { ...deviceStatus(), state: 'on fire' } });
  sockets[0]?.message({ kind: 'event', name: 'no.such.event', payload: {} });
  sockets[0]?.message('not json');
  assert.deepEqual(seen, ['connected']);
  assert.equal(problems.length, 3);
  assert.match(problems[0] ?? '', /^contract: event 'device': field state: expected one of/);
  assert.match(problems[1] ?? '', /^contract: unknown event 'no\.such\.event'/);
  assert.match(problems[2] ?? '', /^contract: message: not JSON/);

  // The socket drops: a waiting request fails, and a new socket comes after the backoff.
  const waiting = host.request('cancel', {});
  sockets[0]?.fire('close', { code: 1006, reason: '' });
  await assert.rejects(waiting, /connection to the host closed/);
  assert.equal(states.at(-1)?.[0], 'closed');
  assert.match(states.at(-1)?.[1] ?? '', /code 1006.*retrying in 0\.3 s/);
  await new Promise((r) => setTimeout(r, 400));
  assert.equal(sockets.length, 2);
  sockets[1]?.fire('open');
  sockets[1]?.message({ kind: 'event', name: 'device', payload: deviceStatus({ state: 'searching', connected: false, device: null }) });
  assert.deepEqual(seen, ['connected', 'searching']);
  host.stop();
  sockets[1]?.fire('close', { code: 1000, reason: '' });
  await new Promise((r) => setTimeout(r, 400));
  assert.equal(sockets.length, 2, 'no reconnect after stop()');
});
