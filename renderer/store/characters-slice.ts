// The imported characters (the Chats view's Characters card): importing a
// card file by its path, starting a conversation with one, exporting its card
// and deleting it.
import type { StateCreator } from 'zustand/vanilla';

import type { HostApi } from '../../common/contract';
import type { CardExport, CharacterSummary } from '../../common/contract/character';
import { errorText } from './errors';
import type { UiState } from './store';

export interface CharactersSlice {
  characters: CharacterSummary[];
  /** Why the last request about characters failed, in words; cleared by the next one. */
  charactersError: string | null;
  refreshCharacters: () => Promise<void>;
  importCharacter: (path: string) => Promise<boolean>;
  chatWith: (id: string) => Promise<void>;
  exportCharacter: (id: string, format: 'json' | 'png') => Promise<CardExport | null>;
  deleteCharacter: (id: string) => Promise<void>;
}

export const createCharactersSlice =
  (host: HostApi): StateCreator<UiState, [], [], CharactersSlice> =>
  (set, get) => {
    const attempt = async <T>(work: () => Promise<T>): Promise<T | null> => {
      set({ charactersError: null });
      try {
        return await work();
      } catch (e) {
        set({ charactersError: errorText(e) });
        return null;
      }
    };
    return {
      characters: [],
      charactersError: null,
      refreshCharacters: async () => {
        const r = await attempt(() => host.request('characters.list', {}));
        if (r !== null) set({ characters: r.characters });
      },
      importCharacter: async (path) => {
        const added = await attempt(() => host.request('characters.import', { path }));
        if (added === null) return false;
        await get().refreshCharacters();
        return true;
      },
      chatWith: async (id) => {
        const c = await attempt(() => host.request('conversation.new', { character_id: id }));
        if (c !== null) set({ conversation: c, view: 'companion' });
      },
      exportCharacter: (id, format) => attempt(() => host.request('characters.export', { id, format })),
      deleteCharacter: async (id) => {
        if ((await attempt(() => host.request('characters.delete', { id }))) !== null) await get().refreshCharacters();
      },
    };
  };
