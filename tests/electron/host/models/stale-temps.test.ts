// Opening the library clears the temp files of crashed writers, and only
// theirs: `keymate models list` opens the folder while the app may be halfway
// through an import, and that import's temp file must survive. Owners are
// real processes here: this one, a child that is still running, and a child
// that has exited.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';

import { ModelLibrary } from '../../../../electron/host/models/library';
import { tempBeside } from '../../../../electron/host/models/publish';
import { STALE_TEMP_AGE_MS, tempOwner } from '../../../../electron/host/storage/atomic-file';
import { deadPid, liveChild } from '../../../support/processes';
import { tempDir } from '../../../support/repo';
import { plenty } from './support/rig';

/** A temp file of `pid`'s, named the way that pid's tempBeside would name it. */
function tempOf(folder: string, pid: number, what: string): string {
  const mine = path.basename(tempBeside(path.join(folder, `${what}.gguf`), 'import'));
  const name = mine.replace(`-${process.pid}-`, `-${pid}-`);
  assert.equal(tempOwner(name), pid);
  fs.writeFileSync(path.join(folder, name), 'partial');
  return name;
}

test('opening the library removes temps of writers that are gone, keeps those of live ones', async (t) => {
  const folder = path.join(tempDir('keymate-temps-'), 'models');
  fs.mkdirSync(folder);
  const ours = tempOf(folder, process.pid, 'ours');
  const theirs = tempOf(folder, liveChild(t), 'theirs');
  tempOf(folder, await deadPid(), 'dead');
  // A record write's temp (storage/atomic-file.ts names it without a "what-").
  const record = `.x.gguf.json.${await deadPid()}-0a1b2c3d.tmp`;
  fs.writeFileSync(path.join(folder, record), '{');
  // Silent for longer than any live writer is: its pid may have been reused.
  const old = tempOf(folder, liveChild(t), 'old');
  const longAgo = (Date.now() - STALE_TEMP_AGE_MS - 60_000) / 1000;
  fs.utimesSync(path.join(folder, old), longAgo, longAgo);
  // No pid in the name: only age can tell.
  fs.writeFileSync(path.join(folder, '.y.gguf.tmp'), '');
  fs.writeFileSync(path.join(folder, '.z.gguf.tmp'), '');
  fs.utimesSync(path.join(folder, '.z.gguf.tmp'), longAgo, longAgo);

  await ModelLibrary.open({ folder, statfs: plenty });
  assert.deepEqual(fs.readdirSync(folder).sort(), [ours, theirs, '.y.gguf.tmp'].sort());
});
