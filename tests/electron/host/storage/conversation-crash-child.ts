// The host that conversation-crash.test.ts kills: a real Host on the data
// folder it is given, with the stories260K model, asking question after
// question in the current conversation. It prints "ready" once the model is
// loaded and "ack INDEX ROLE PRESS LENGTH HASH" for every turn the host
// announces (conversation.turn: the turn is on disk).
import * as fs from 'node:fs';

import { Host } from '../../../../electron/host/host';
import { SettingsStore } from '../../../../electron/host/storage/settings-store';
import { stories } from '../../../support/repo';

/** FNV-1a of a string's UTF-16 units: enough to tell a turn's text from another. */
export function textHash(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h.toString(16);
}

async function main(home: string): Promise<void> {
  await (await SettingsStore.open(home)).store.update({ max_tokens: 128, temperature: 0.8, threads: 1, persona: 'Tell a story.' });
  const host = await Host.start({ home, transport: 'websocket', model: stories(), keyboard: false, log: () => undefined });
  let done: () => void = () => undefined;
  host.subscribe((name, payload) => {
    if (name === 'conversation.turn') {
      const e = payload as { index: number; turn: { role: string; press_id: string; text: string } };
      fs.writeSync(1, `ack ${e.index} ${e.turn.role} ${e.turn.press_id} ${e.turn.text.length} ${textHash(e.turn.text)}\n`);
    }
    if (name === 'reply.done' || name === 'reply.error') done();
  });
  while (host.state().engine.state !== 'ready') await new Promise((r) => setTimeout(r, 5));
  fs.writeSync(1, 'ready\n');
  for (let n = 0; ; n++) {
    const finished = new Promise<void>((r) => (done = r));
    void host.handlers.generate({ prompt: `Question ${n}: what happened next?` }, undefined);
    await finished;
  }
}

if (require.main === module) {
  const home = process.argv[2];
  if (home === undefined) throw new Error('usage: conversation-crash-child HOME');
  void main(home);
}
