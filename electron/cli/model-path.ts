// Which file a --model argument means. A path that exists is used as given
// (so the engine's errors name it as the user wrote it); a bare file name
// that does not exist here is looked up in the data home's models/ folder
// (KEYMATE_HOME, see common/data-home.ts). A missing, unreadable or
// not-a-regular-file path (a folder, a pipe, a socket, a device) is a
// CliError naming it, found without blocking (storage/regular-file.ts).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { modelsFolder, resolveDataHome } from '../../common/data-home';
import { checkRegularFileSync } from '../host/storage/regular-file';
import { CliError } from './errors';

export function dataHome(env: NodeJS.ProcessEnv): string {
  return path.resolve(resolveDataHome({ env, platform: process.platform, homedir: os.homedir() }));
}

export function resolveModelPath(arg: string, env: NodeJS.ProcessEnv): string {
  if (fs.existsSync(arg)) return checkReadableFile(arg);
  const bare = !arg.includes('/') && !arg.includes('\\');
  if (bare) {
    const inHome = path.join(modelsFolder(dataHome(env), process.platform), arg);
    if (fs.existsSync(inHome)) return checkReadableFile(inHome);
    throw new CliError(`${arg}: no such file (nor in ${path.dirname(inHome)})`);
  }
  throw new CliError(`${arg}: no such file`);
}

function checkReadableFile(file: string): string {
  try {
    checkRegularFileSync(file, 'model file');
  } catch (e) {
    throw new CliError(e instanceof Error ? e.message : String(e));
  }
  return file;
}

/** The folder a new file will be written into must exist and be a folder. */
export function checkOutputPath(file: string): string {
  const dir = path.dirname(path.resolve(file));
  if (!fs.existsSync(dir)) throw new CliError(`${file}: folder ${dir} does not exist`);
  if (!fs.statSync(dir).isDirectory()) throw new CliError(`${file}: ${dir} is not a folder`);
  if (fs.existsSync(file) && fs.statSync(file).isDirectory()) throw new CliError(`${file}: is a folder`);
  return file;
}
