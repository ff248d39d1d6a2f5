// Characters, and the cards companion-chat tools share them as: Character
// Card V2 (spec "chara_card_v2") and V3 ("chara_card_v3"), read from JSON or
// PNG by electron/host/characters/card-file.ts.
//
// A card is validated, never rewritten: the schemas are loose objects, so a
// field a later spec or another tool adds passes through, and parseCard hands
// back the very value it was given (zod's output would put the known keys
// first), so an export is the import, key order included.
//
// Keymate's own Character is built from a card once, at import: the persona
// is the card's prompt fields with {{char}} and {{user}} put in by plain
// substitution. Cards come from strangers: their text is never run as a
// template, so `{% if %}` or `{{ 7*7 }}` reach the model as the characters
// they are.
import { z } from 'zod';

import { printable } from '../printable';
import { formatPath, typeOf, valueAt } from './errors';

/** Application data (`extensions`): any JSON object; Keymate's own lives under `keymate`. */
const Extensions = z.record(z.string(), z.unknown());

/**
 * The lorebook: kept as it is, for export; Keymate does not use it yet. Some
 * exporters write null for "none", which is as good as absent.
 */
const CharacterBook = z.record(z.string(), z.unknown()).nullable();

/** The fields of V2's `data`, in the spec's order. */
const cardV2Fields = {
  name: z.string().min(1),
  description: z.string(),
  personality: z.string(),
  scenario: z.string(),
  first_mes: z.string(),
  mes_example: z.string(),
  /** For the person reading the card, never for the model. */
  creator_notes: z.string(),
  /** Replaces the app's own system prompt; `{{original}}` stands for it. */
  system_prompt: z.string(),
  post_history_instructions: z.string(),
  alternate_greetings: z.array(z.string()),
  character_book: CharacterBook.optional(),
  tags: z.array(z.string()),
  creator: z.string(),
  character_version: z.string(),
  extensions: Extensions,
};

export const CharacterCardV2 = z.looseObject({
  spec: z.literal('chara_card_v2'),
  spec_version: z.literal('2.0'),
  data: z.looseObject(cardV2Fields),
});
export type CharacterCardV2 = z.infer<typeof CharacterCardV2>;

export const CharacterCardV3 = z.looseObject({
  spec: z.literal('chara_card_v3'),
  spec_version: z.literal('3.0'),
  data: z.looseObject({
    ...cardV2Fields,
    /** Stands in for `name` in {{char}}. */
    nickname: z.string().optional(),
    /** ISO 639-1 code -> creator notes in that language. */
    creator_notes_multilingual: z.record(z.string(), z.string()).optional(),
    /** IDs or URLs the card came from; tools only append. */
    source: z.array(z.string()).optional(),
    /** Greetings for group chats only (Keymate has none). */
    group_only_greetings: z.array(z.string()),
    /** Unix time, seconds. */
    creation_date: z.number().optional(),
    modification_date: z.number().optional(),
    /** Icons, backgrounds, ...; absent means the PNG itself is the icon. */
    assets: z.array(z.looseObject({ type: z.string(), uri: z.string(), name: z.string(), ext: z.string() })).optional(),
  }),
});
export type CharacterCardV3 = z.infer<typeof CharacterCardV3>;

export const Card = z.discriminatedUnion('spec', [CharacterCardV2, CharacterCardV3]);
export type Card = z.infer<typeof Card>;

export const CharacterSampling = z.strictObject({
  temperature: z.number().min(0).max(2).optional(),
  top_p: z.number().gt(0).max(1).optional(),
  top_k: z.number().int().min(0).max(1000).optional(),
});
export type CharacterSampling = z.infer<typeof CharacterSampling>;

/** A character as Keymate runs it; `card` is the card it came from, whole, for export. */
export const Character = z.strictObject({
  id: z.string().min(1),
  name: z.string().min(1),
  /** The system prompt a conversation with this character starts with. */
  persona: z.string(),
  /** The character's first message (the card's first_mes). */
  greeting: z.string(),
  alternate_greetings: z.array(z.string()),
  /** Overrides of the settings' sampling; absent = the settings' value. */
  sampling: CharacterSampling,
  card: Card,
});
export type Character = z.infer<typeof Character>;

/** A card that cannot be read, in one line: "character card: data.name: expected a string, but it is missing". */
export class CharacterCardError extends Error {
  override readonly name = 'CharacterCardError';
}

export function cardError(detail: string): CharacterCardError {
  return new CharacterCardError(`character card: ${detail}`);
}

const SPECS = { chara_card_v2: CharacterCardV2, chara_card_v3: CharacterCardV3 } as const;

/** `value` (parsed JSON) as a V2 or V3 card, the same object; a CharacterCardError naming the first problem otherwise. */
export function parseCard(value: unknown): Card {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw cardError(`expected a JSON object, got ${typeOf(value)}`);
  }
  const spec: unknown = (value as Record<string, unknown>)['spec'];
  // The spec is checked first so that a V1 card or another format gets one
  // clear sentence, not the first of V2's many missing fields.
  if (spec !== 'chara_card_v2' && spec !== 'chara_card_v3') {
    const shown = spec === undefined ? 'missing (a V1 card?)' : typeof spec === 'string' ? `"${printable(spec)}"` : `of type ${typeOf(spec)}`;
    throw cardError(`spec: ${shown}; Character Card V2 ("chara_card_v2") and V3 ("chara_card_v3") are read`);
  }
  const result = SPECS[spec].safeParse(value);
  const issue = result.error?.issues[0];
  if (issue !== undefined) throw cardError(describeIssue(issue, value));
  return value as Card;
}

/** What {{user}} becomes; the card's name (or V3 nickname) is {{char}}. */
export interface CharacterOptions {
  /** Keymate's id for the character, given by whoever stores it. */
  id: string;
  /** Default "User". */
  user?: string;
  /** What a system_prompt's {{original}} becomes: the prompt the card replaces; default none. */
  original?: string;
}

/** Keymate's character from a card. creator_notes never reach the persona: they are for people. */
export function characterFromCard(card: Card, options: CharacterOptions): Character {
  const d = card.data;
  const char = card.spec === 'chara_card_v3' && card.data.nickname !== undefined && card.data.nickname !== '' ? card.data.nickname : d.name;
  const names = { char, user: options.user ?? 'User' };
  const fill = (text: string): string => substitute(text, names);
  const sections = [
    substitute(d.system_prompt, { ...names, original: options.original ?? '' }),
    fill(d.description),
    d.personality.trim() === '' ? '' : `${char}'s personality: ${fill(d.personality)}`,
    d.scenario.trim() === '' ? '' : `Scenario: ${fill(d.scenario)}`,
    d.mes_example.trim() === '' ? '' : `Example dialogue:\n${fill(d.mes_example)}`,
  ];
  return {
    id: options.id,
    name: d.name,
    persona: sections
      .map((s) => s.trim())
      .filter((s) => s !== '')
      .join('\n\n'),
    greeting: fill(d.first_mes),
    alternate_greetings: d.alternate_greetings.map(fill),
    sampling: keymateSampling(d.extensions),
    card,
  };
}

/**
 * {{char}}, {{user}} (and {{original}} where given) replaced, case as the
 * tools accept it, in one pass over the text: what is put in is never looked
 * at again, and a function replacer keeps `$&` in a name literal.
 */
function substitute(text: string, names: Record<string, string>): string {
  return text.replace(/\{\{(char|user|original)\}\}/gi, (macro, key: string) => names[key.toLowerCase()] ?? macro);
}

/** Keymate's sampling for the character, kept in the card's extensions so an export carries it; anything else there is ignored. */
function keymateSampling(extensions: Record<string, unknown>): CharacterSampling {
  const keymate = extensions['keymate'];
  const sampling = typeof keymate === 'object' && keymate !== null ? (keymate as Record<string, unknown>)['sampling'] : undefined;
  const parsed = CharacterSampling.safeParse(sampling);
  return parsed.success ? parsed.data : {};
}

const EXPECTED: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  array: 'an array',
  object: 'an object',
  record: 'an object',
};

function describeIssue(issue: z.core.$ZodIssue, input: unknown): string {
  const where = issue.path.length === 0 ? 'card' : formatPath(issue.path);
  switch (issue.code) {
    case 'invalid_type': {
      const at = valueAt(input, issue.path);
      const expected = EXPECTED[issue.expected] ?? issue.expected;
      return `${where}: expected ${expected}, ${at.present ? `got ${typeOf(at.value)}` : 'but it is missing'}`;
    }
    case 'invalid_value':
      return `${where}: expected ${issue.values.map((v) => JSON.stringify(v)).join(' or ')}`;
    case 'too_small':
      return issue.origin === 'string' ? `${where}: must not be empty` : `${where}: too small (minimum ${String(issue.minimum)})`;
    default:
      return `${where}: ${printable(issue.message)}`;
  }
}

/** A character in a list: what the pickers show. */
export const CharacterSummary = z.strictObject({
  id: z.string().min(1),
  name: z.string(),
  /** Its first message, as a conversation with it begins. */
  greeting: z.string(),
  tags: z.array(z.string()),
  /** The card came with a picture (a PNG card): exported as one. */
  has_image: z.boolean(),
});
export type CharacterSummary = z.infer<typeof CharacterSummary>;

/** A card file written out for the user (base64: a PNG is binary). */
export const CardExport = z.strictObject({
  file_name: z.string(),
  mime: z.string(),
  data_base64: z.string(),
});
export type CardExport = z.infer<typeof CardExport>;
