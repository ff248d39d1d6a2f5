// A conversation: the presses that continue one exchange with the companion,
// in order. Each press adds a user turn (when it is sent) and an assistant
// turn (when its reply ends); a `notice` turn tells the user something about
// the conversation itself (older turns no longer fit the model's context) and
// never reaches the model. The model sees the persona and the turns from
// `context_from` on, rendered through its chat template.
import { z } from 'zod';

import { CharacterSampling } from './character';
import { PressId, StopReason } from './session';

/** "c", its creation time and a counter, both base 36: also its file's name. */
export const ConversationId = z.string().regex(/^c[0-9a-z]{1,20}-[0-9a-z]{1,20}$/, 'a conversation id is "c", base-36 time, "-" and a counter');
export type ConversationId = z.infer<typeof ConversationId>;

export const TURN_ROLES = ['user', 'assistant', 'notice'] as const;

/** The press id of a character's greeting: the reply that comes before any question (chosen among its versions, never regenerated). */
export const GREETING = 'greeting';

/** One version of a reply: a turn regenerated (swiped) keeps every version it had. */
export const ReplyVersion = z.strictObject({
  text: z.string(),
  t_ms: z.number(),
  stop: StopReason,
  prompt_tokens: z.number().int().nonnegative().nullable(),
  cached_tokens: z.number().int().nonnegative().nullable(),
});
export type ReplyVersion = z.infer<typeof ReplyVersion>;

export const Turn = z.strictObject({
  role: z.enum(TURN_ROLES),
  text: z.string(),
  /** The press that made it (a notice: the press that caused it). */
  press_id: PressId,
  /** Unix epoch ms. */
  t_ms: z.number(),
  /** assistant: why the reply ended; null otherwise. */
  stop: StopReason.nullable(),
  /** assistant: the prompt this reply was computed from, in tokens, and how many came from the cache; null otherwise. */
  prompt_tokens: z.number().int().nonnegative().nullable(),
  cached_tokens: z.number().int().nonnegative().nullable(),
  /** assistant, once regenerated: every version, oldest first; the turn's own fields are versions[chosen]'s. */
  versions: z.array(ReplyVersion).optional(),
  chosen: z.number().int().nonnegative().optional(),
});
export type Turn = z.infer<typeof Turn>;

export const Conversation = z.strictObject({
  id: ConversationId,
  /** The first words of its first question until the user renames it. */
  title: z.string().max(200),
  created_ms: z.number(),
  updated_ms: z.number(),
  turns: z.array(Turn),
  /** The first turn the model still sees: older ones no longer fit its context (session/context-fit.ts). */
  context_from: z.number().int().nonnegative(),
  /** The character it is with: its persona and sampling as they were when the conversation began (the settings' persona when absent). */
  character: z
    .strictObject({ id: z.string().min(1), name: z.string(), persona: z.string(), sampling: CharacterSampling })
    .optional(),
  /** A branch: the conversation and the number of its turns it started from. */
  branched_from: z.strictObject({ id: ConversationId, turns: z.number().int().nonnegative() }).optional(),
});
export type Conversation = z.infer<typeof Conversation>;

/** A conversation in a list: what the Chats view shows without loading every turn. */
export const ConversationSummary = z.strictObject({
  id: ConversationId,
  title: z.string(),
  created_ms: z.number(),
  updated_ms: z.number(),
  turns: z.number().int().nonnegative(),
});
export type ConversationSummary = z.infer<typeof ConversationSummary>;

/** One turn added to a conversation (any other change sends the conversation whole). */
export const ConversationTurn = z.strictObject({
  conversation_id: ConversationId,
  /** Its place in `turns`. */
  index: z.number().int().nonnegative(),
  turn: Turn,
});
export type ConversationTurn = z.infer<typeof ConversationTurn>;

/** A conversation written out for the user: Markdown to read, or JSON with every field. */
export const EXPORT_FORMATS = ['markdown', 'json'] as const;
export const ConversationExport = z.strictObject({
  file_name: z.string(),
  mime: z.string(),
  text: z.string(),
});
export type ConversationExport = z.infer<typeof ConversationExport>;
