// A path chosen as the model (models.select, settings.set, the saved choice
// at start): a regular file, found so without blocking (storage/regular-file),
// whose GGUF header the engine reads without complaint. Checked before a
// choice is saved, so a pipe, a folder or a text file never becomes the model
// the next start tries to load.
import * as path from 'node:path';

import { planMemory } from '../engine/native-engine';
import { checkRegularFile } from '../storage/regular-file';

/** The absolute path of a usable model file; throws one line naming `file` and what is wrong with it. */
export async function checkModelFile(file: string): Promise<string> {
  await checkRegularFile(file, 'model file');
  const resolved = path.resolve(file);
  // The header alone (every tensor inside the file): a truncated download or
  // a file that is not a GGUF says so here, in the engine's words.
  planMemory(resolved, { context: 16 });
  return resolved;
}
