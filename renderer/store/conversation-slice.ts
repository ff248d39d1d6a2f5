// The conversation presses continue: its turns as the host saved them. A
// turn arrives (conversation.turn) once it is on disk; any other change (a
// new conversation, another one opened, old turns dropped from the model's
// view) replaces the conversation whole.
import type { StateCreator } from 'zustand/vanilla';

import type { HostApi } from '../../common/contract';
import type { Conversation, ConversationTurn } from '../../common/contract/conversation';
import { errorText } from './errors';
import type { UiState } from './store';

export interface ConversationSlice {
  conversation: Conversation | null;
  /** Why the last new-conversation request failed, in words; cleared by the next one. */
  conversationError: string | null;
  setConversation: (c: Conversation) => void;
  conversationTurn: (t: ConversationTurn) => void;
  newConversation: () => Promise<void>;
}

export const createConversationSlice =
  (host: HostApi): StateCreator<UiState, [], [], ConversationSlice> =>
  (set, get) => ({
    conversation: null,
    conversationError: null,
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
      set({ conversationError: null });
      try {
        set({ conversation: await host.request('conversation.new', {}) });
      } catch (e) {
        set({ conversationError: errorText(e) });
      }
    },
  });
