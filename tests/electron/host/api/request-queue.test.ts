// The API's line for the engine: one at a time in order of arrival, at most
// `maxWaiting` waiting (the next refused at once), a request whose client
// left gone from the line, and a failure that does not stop the line.
import * as assert from 'node:assert/strict';
import { test } from 'node:test';

import { LeftTheQueue, MAX_WAITING_REQUESTS, QueueFull, RequestQueue } from '../../../../electron/host/api/request-queue';

/** A piece of work that runs until released. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((r) => (open = r));
  return { promise, open };
}

test('one at a time, in order; the line is bounded and the next is refused at once', async () => {
  const q = new RequestQueue(2);
  const order: string[] = [];
  let running = 0;
  const g = gate();
  const job = (name: string, wait?: Promise<void>) => async () => {
    running++;
    assert.equal(running, 1, 'never two at once');
    order.push(name);
    await wait;
    running--;
    return name;
  };
  const a = q.run(job('a', g.promise));
  const b = q.run(job('b'));
  const c = q.run(job('c'));
  assert.equal(q.waiting, 2);
  assert.ok(q.full);
  await assert.rejects(q.run(job('d')), (e) => e instanceof QueueFull && e.waiting === 2);
  g.open();
  assert.deepEqual(await Promise.all([a, b, c]), ['a', 'b', 'c']);
  assert.deepEqual(order, ['a', 'b', 'c']);
  assert.deepEqual({ busy: q.busy, full: q.full, waiting: q.waiting }, { busy: false, full: false, waiting: 0 });
  assert.equal(await q.run(job('e')), 'e', 'room again');
});

test('a request whose client leaves while it waits is out of the line; one that failed does not stop it', async () => {
  const q = new RequestQueue(4);
  const g = gate();
  const first = q.run(async () => {
    await g.promise;
    throw new Error('engine failed');
  });
  const leaving = new AbortController();
  const left = q.run(() => Promise.resolve('never'), leaving.signal);
  const last = q.run(() => Promise.resolve('last'));
  leaving.abort();
  await assert.rejects(left, LeftTheQueue);
  assert.equal(q.waiting, 1);
  g.open();
  await assert.rejects(first, /engine failed/);
  assert.equal(await last, 'last');
  await assert.rejects(q.run(() => Promise.resolve(1), AbortSignal.abort()), LeftTheQueue);
});

test('the documented bound', () => {
  assert.equal(MAX_WAITING_REQUESTS, 16);
  assert.equal(new RequestQueue().maxWaiting, 16);
});
