// Server-sent events as OpenAI frames them: one `data:` line per message
// (line breaks in the text stay escaped inside the JSON), a blank line after
// each, headers with the first message, [DONE] last, and a failure as an
// {"error"} message with no [DONE].
import * as assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { test } from 'node:test';

import { SSE_DONE, SseStream, sseMessage } from '../../../../electron/host/api/sse';

/** A response that records what was written to it. */
function recorder(): { res: ServerResponse; out: () => string; head: () => { status: number; headers: Record<string, string> } | null; ended: () => boolean } {
  let out = '';
  let head: { status: number; headers: Record<string, string> } | null = null;
  let ended = false;
  const res = {
    socket: null,
    writeHead(status: number, headers: Record<string, string>) {
      head = { status, headers };
      return res;
    },
    write(chunk: string) {
      assert.ok(head !== null, 'headers before the body');
      out += chunk;
      return true;
    },
    end(chunk?: string) {
      if (chunk !== undefined) out += chunk;
      ended = true;
      return res;
    },
  };
  return { res: res as unknown as ServerResponse, out: () => out, head: () => head, ended: () => ended };
}

test('one data line per message, a blank line after it; line breaks stay inside the JSON', () => {
  const m = sseMessage({ text: 'two\nlines\r\nand \u2028 more' });
  assert.match(m, /^data: [^\n\r]*\n\n$/);
  assert.deepEqual(JSON.parse(m.slice(6)), { text: 'two\nlines\r\nand \u2028 more' });
  assert.equal(SSE_DONE, 'data: [DONE]\n\n');
});

test('a stream: the event-stream headers with the first message, [DONE] last', () => {
  const r = recorder();
  const s = new SseStream(r.res);
  assert.equal(s.started, false);
  assert.equal(r.head(), null, 'nothing sent before the first message');
  s.send({ a: 1 });
  s.send({ b: 'x' });
  s.done();
  assert.ok(s.started && r.ended());
  assert.equal(r.head()?.status, 200);
  assert.equal(r.head()?.headers['Content-Type'], 'text/event-stream; charset=utf-8');
  assert.equal(r.head()?.headers['Cache-Control'], 'no-store');
  assert.equal(r.out(), 'data: {"a":1}\n\ndata: {"b":"x"}\n\ndata: [DONE]\n\n');
});

test('a failure mid-stream: an error message, no [DONE]', () => {
  const r = recorder();
  const s = new SseStream(r.res);
  s.send({ a: 1 });
  s.fail({ error: { message: 'engine: failed', type: 'server_error', param: null, code: 'engine_error' } });
  assert.ok(r.ended());
  assert.equal(r.out(), 'data: {"a":1}\n\ndata: {"error":{"message":"engine: failed","type":"server_error","param":null,"code":"engine_error"}}\n\n');
});
