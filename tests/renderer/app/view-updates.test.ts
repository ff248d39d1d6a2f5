// React hears of the store's changes a task late, once per task's changes.
import * as assert from 'node:assert/strict';
import { test } from 'node:test';

import { type PostTask, ViewUpdates, postTask } from '../../../renderer/app/view-updates';
import { createUiStore } from '../../../renderer/store/store';
import { FakeHost } from '../fake-host';

const start = (pressId: string) => ({ press_id: pressId, source: 'keyboard' as const, prompt: 'Hi', t_ms: 1000 });
/** Resolves after the tasks `post` already holds (one channel keeps its order). */
const after = (post: PostTask) => new Promise<void>((resolve) => post(resolve));

test('a change reaches the listeners after the task that made it, its microtasks included', async () => {
  const store = createUiStore(new FakeHost());
  const post = postTask();
  const views = new ViewUpdates(store, post);
  const heard: string[] = [];
  views.subscribe(() => heard.push(store.getState().reply?.pressId ?? 'none'));
  store.getState().replyStarted(start('p1'));
  assert.deepEqual(heard, [], 'not in the same task');
  await Promise.resolve();
  assert.deepEqual(heard, [], 'not in its microtasks');
  await after(post);
  assert.deepEqual(heard, ['p1']);
});

test('the changes of one task make one notice, which sees the last of them', () => {
  const store = createUiStore(new FakeHost());
  const posted: (() => void)[] = [];
  const views = new ViewUpdates(store, (fn) => posted.push(fn));
  let calls = 0;
  views.subscribe(() => calls++);
  store.getState().replyStarted(start('p1'));
  store.getState().replyToken({ press_id: 'p1', index: 0, text: 'Hello', t_ms: 3 });
  store.getState().replyToken({ press_id: 'p1', index: 1, text: ' there', t_ms: 4 });
  assert.equal(posted.length, 1, 'one task posted for three changes');
  posted.shift()?.();
  assert.equal(calls, 1);
  // A change after the notice ran posts again.
  store.getState().replyToken({ press_id: 'p1', index: 2, text: '!', t_ms: 5 });
  assert.equal(posted.length, 1);
  posted.shift()?.();
  assert.equal(calls, 2);
});

test('an unsubscribed listener hears nothing more; the others still do', async () => {
  const store = createUiStore(new FakeHost());
  const post = postTask();
  const views = new ViewUpdates(store, post);
  let a = 0;
  let b = 0;
  const offA = views.subscribe(() => a++);
  views.subscribe(() => b++);
  store.getState().replyStarted(start('p1'));
  await after(post);
  offA();
  store.getState().replyStarted(start('p2'));
  await after(post);
  assert.deepEqual([a, b], [1, 2]);
});

test('postTask runs its functions in order, each after the current task', async () => {
  const post = postTask();
  const order: string[] = [];
  post(() => order.push('first'));
  post(() => order.push('second'));
  order.push('now');
  await Promise.resolve();
  order.push('microtask');
  await new Promise<void>((resolve) => post(resolve));
  assert.deepEqual(order, ['now', 'microtask', 'first', 'second']);
});
