// Where Keymate keeps its data (settings, history, models): KEYMATE_HOME when
// set, else the operating system's application-data folder, named as Electron
// names it (app.getPath('appData') + '/Keymate'), so the command line and the
// app share one folder. Pure: the caller passes the environment in, which
// keeps this usable from every layer and testable for every platform.

export interface DataHomeInputs {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly platform: string; // process.platform
  readonly homedir: string; // os.homedir()
}

export const APP_FOLDER = 'Keymate';

export function resolveDataHome({ env, platform, homedir }: DataHomeInputs): string {
  const explicit = env['KEYMATE_HOME'];
  if (explicit !== undefined && explicit !== '') return explicit;
  if (platform === 'win32') {
    const appData = env['APPDATA'];
    const base = appData !== undefined && appData !== '' ? appData : joinPath('win32', homedir, 'AppData', 'Roaming');
    return joinPath('win32', base, APP_FOLDER);
  }
  if (platform === 'darwin') return joinPath(platform, homedir, 'Library', 'Application Support', APP_FOLDER);
  const xdg = env['XDG_CONFIG_HOME'];
  const base = xdg !== undefined && xdg.startsWith('/') ? xdg : joinPath(platform, homedir, '.config');
  return joinPath(platform, base, APP_FOLDER);
}

/** The folder models are imported into, below the data home. */
export function modelsFolder(home: string, platform: string): string {
  return joinPath(platform, home, 'models');
}

function joinPath(platform: string, ...parts: string[]): string {
  const sep = platform === 'win32' ? '\\' : '/';
  return parts.map((p, i) => (i === 0 ? p.replace(/[\\/]+$/, '') : p.replace(/^[\\/]+|[\\/]+$/g, ''))).join(sep);
}
