// The user's settings (common/contract/settings.ts) in <data home>/settings.json.
// update() checks the merged result against the schema before anything is
// kept, and resolves only once the new settings are on disk.
import * as path from 'node:path';

// The settings module alone, not the whole contract: a writer that only saves files starts faster.
import { DEFAULT_SETTINGS, SETTINGS_VERSION, Settings, type SettingsPatch } from '../../../common/contract/settings';
import { DEFAULT_THERMAL } from '../../../common/contract/thermal';
import { SerialWriter } from './serial-writer';
import { type Loaded, type Migration, type VersionedFormat, loadVersioned, repairFields, saveVersioned } from './versioned-file';

/**
 * Version history of settings.json; each version adds its step here and bumps
 * SETTINGS_VERSION in the contract.
 *   1: the first release.
 *   2: `thermal`, the thermal and fan policy. A version-1 file gets
 *      the default policy; nothing else changes.
 *   3: `thinking`, whether a reasoning model thinks before it answers; on,
 *      as the models' authors ship them.
 *   4: `remote` (an OpenAI-compatible server instead of the local engine)
 *      and `api` (the app's own API); both off, as before.
 */
export const SETTINGS_MIGRATIONS: readonly Migration[] = [
  {
    from: 1,
    migrate: (v1) => {
      if (typeof v1 !== 'object' || v1 === null || Array.isArray(v1)) throw new Error('the settings are not an object');
      return { ...(v1 as Record<string, unknown>), thermal: { ...DEFAULT_THERMAL } };
    },
  },
  {
    from: 2,
    migrate: (v2) => {
      if (typeof v2 !== 'object' || v2 === null || Array.isArray(v2)) throw new Error('the settings are not an object');
      return { ...(v2 as Record<string, unknown>), thinking: DEFAULT_SETTINGS.thinking };
    },
  },
  {
    from: 3,
    migrate: (v3) => {
      if (typeof v3 !== 'object' || v3 === null || Array.isArray(v3)) throw new Error('the settings are not an object');
      return { ...(v3 as Record<string, unknown>), remote: { ...DEFAULT_SETTINGS.remote }, api: { ...DEFAULT_SETTINGS.api } };
    },
  },
];

export const settingsFormat: VersionedFormat<Settings> = {
  kind: 'settings',
  version: SETTINGS_VERSION,
  schema: Settings,
  migrations: SETTINGS_MIGRATIONS,
  defaults: () => ({ ...DEFAULT_SETTINGS }),
  // One bad field (a hand edit, an older bug) must not cost the user every other setting.
  repair: (data) => repairFields(Settings, data, DEFAULT_SETTINGS),
};

export class SettingsStore {
  private readonly writer: SerialWriter;
  /** Set when the file could not be read: nothing is written over what was not seen. */
  private readOnly: string | null = null;

  private constructor(
    readonly file: string,
    private current: Settings,
    private readonly format: VersionedFormat<Settings>,
  ) {
    this.writer = new SerialWriter(() => saveVersioned(this.file, this.format, this.current));
  }

  static async open(home: string, format: VersionedFormat<Settings> = settingsFormat): Promise<{ store: SettingsStore; loaded: Loaded<Settings> }> {
    const file = path.join(home, 'settings.json');
    const loaded = await loadVersioned(file, format);
    const store = new SettingsStore(file, loaded.data, format);
    // A migrated file is written back in the new version at once, so an
    // older Keymate started later finds a file it knows is not its own.
    if (loaded.status === 'migrated' || loaded.status === 'repaired') await store.writer.save();
    return { store, loaded };
  }

  /**
   * Settings in memory only, for when settings.json cannot be read (no
   * permission, I/O error): the defaults are used, and every update is refused
   * with `reason` rather than written over a file nobody has seen.
   */
  static unreadable(home: string, reason: string, format: VersionedFormat<Settings> = settingsFormat): SettingsStore {
    const store = new SettingsStore(path.join(home, 'settings.json'), format.defaults(), format);
    store.readOnly = reason;
    return store;
  }

  get(): Settings {
    return { ...this.current };
  }

  /** Throws (and keeps nothing) when the result is not valid settings. */
  async update(patch: SettingsPatch): Promise<Settings> {
    if (this.readOnly !== null) throw new Error(`settings: not saved: ${this.readOnly}`);
    const next = Settings.parse({ ...this.current, ...patch });
    this.current = next;
    await this.writer.save();
    return { ...next };
  }

  flush(): Promise<void> {
    return this.writer.flush();
  }
}
