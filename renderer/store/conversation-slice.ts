// The conversation presses continue, and the saved ones (the Chats view).
// A turn arrives (conversation.turn) once it is on disk; any other change (a
// new conversation, another one opened, a reply's new version, old turns
// dropped from the model's view) replaces the conversation whole. The list is
// asked for when the Chats view shows it or changes it.
import type { StateCreator } from 'zustand/vanilla';

import type { HostApi } from '../../common/contract';
import type { Conversation, ConversationExport, ConversationSummary, ConversationTurn } from '../../common/contract/conversation';
import { errorText } from './errors';
import type { UiState } from './store';

export interface ConversationSlice {
  conversation: Conversation | null;
  /** Why the last request about conversations failed, in words; cleared by the next one. */
  conversationError: string | null;
  chats: ConversationSummary[];
  chatsQuery: string;
  /** The last deleted conversation, while it can be restored. */
  deletedChat: ConversationSummary | null;
  setConversation: (c: Conversation) => void;
  conversationTurn: (t: ConversationTurn) => void;
  newConversation: () => Promise<void>;
  regenerate: () => Promise<void>;
  chooseVersion: (version: number) => Promise<void>;
  branch: (id: string, turns: number) => Promise<void>;
  refreshChats: (query?: string) => Promise<void>;
  openChat: (id: string) => Promise<void>;
  renameChat: (id: string, title: string) => Promise<void>;
  deleteChat: (id: string) => Promise<void>;
  restoreChat: () => Promise<void>;
  exportChat: (id: string, format: 'markdown' | 'json') => Promise<ConversationExport | null>;
}

export const createConversationSlice =
  (host: HostApi): StateCreator<UiState, [], [], ConversationSlice> =>
  (set, get) => {
    /** Runs a request, keeping its failure in words for the view. */
    const attempt = async <T>(work: () => Promise<T>): Promise<T | null> => {
      set({ conversationError: null });
      try {
        return await work();
      } catch (e) {
        set({ conversationError: errorText(e) });
        return null;
      }
    };
    const relist = (): Promise<void> => get().refreshChats(get().chatsQuery);
    return {
      conversation: null,
      conversationError: null,
      chats: [],
      chatsQuery: '',
      deletedChat: null,
      setConversation: (conversation) => set({ conversation }),
      conversationTurn: ({ conversation_id, index, turn }) => {
        const c = get().conversation;
        // A turn of another conversation (it was switched since) is not this one's news.
        if (c === null || c.id !== conversation_id) return;
        const turns = c.turns.slice(0, index);
        turns[index] = turn;
        set({ conversation: { ...c, turns, updated_ms: Math.max(c.updated_ms, turn.t_ms) } });
      },
      newConversation: async () => {
        const c = await attempt(() => host.request('conversation.new', {}));
        if (c !== null) set({ conversation: c });
      },
      regenerate: async () => {
        await attempt(() => host.request('conversation.regenerate', {}));
      },
      chooseVersion: async (version) => {
        const c = await attempt(() => host.request('conversation.choose', { version }));
        if (c !== null) set({ conversation: c });
      },
      branch: async (id, turns) => {
        const c = await attempt(() => host.request('conversation.branch', { id, turns }));
        if (c !== null) set({ conversation: c });
      },
      refreshChats: async (query = '') => {
        set({ chatsQuery: query });
        const r = await attempt(() => host.request('conversations.list', { limit: 500, query }));
        // A slower answer to an older query must not replace a newer one's.
        if (r !== null && get().chatsQuery === query) set({ chats: r.conversations });
      },
      openChat: async (id) => {
        const c = await attempt(() => host.request('conversation.open', { id }));
        if (c !== null) set({ conversation: c, view: 'companion' });
      },
      renameChat: async (id, title) => {
        if ((await attempt(() => host.request('conversation.rename', { id, title }))) !== null) await relist();
      },
      deleteChat: async (id) => {
        const gone = await attempt(() => host.request('conversation.delete', { id }));
        if (gone !== null) set({ deletedChat: gone });
        await relist();
      },
      restoreChat: async () => {
        const gone = get().deletedChat;
        if (gone === null) return;
        if ((await attempt(() => host.request('conversation.restore', { id: gone.id }))) !== null) set({ deletedChat: null });
        await relist();
      },
      exportChat: (id, format) => attempt(() => host.request('conversation.export', { id, format })),
    };
  };
