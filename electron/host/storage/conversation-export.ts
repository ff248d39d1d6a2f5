// A conversation written out for the user: Markdown to read (each turn under
// who said it, a reasoning model's thinking apart from its answer, the reply's
// other versions left out) or JSON with every field (the same document the
// data folder holds, without the file's envelope).
import type { Conversation, ConversationExport } from '../../../common/contract/conversation';
import { splitThinking } from '../../../common/thinking';
import { fileSlug } from './file-slug';

export function exportConversation(c: Conversation, format: 'markdown' | 'json'): ConversationExport {
  const base = `keymate-${fileSlug(c.title, c.id)}`;
  if (format === 'json') return { file_name: `${base}.json`, mime: 'application/json', text: `${JSON.stringify(c, null, 2)}\n` };
  return { file_name: `${base}.md`, mime: 'text/markdown', text: markdown(c) };
}

function markdown(c: Conversation): string {
  const lines = [`# ${oneLine(c.title === '' ? 'Conversation' : c.title)}`, '', `*${new Date(c.created_ms).toISOString()}*`, ''];
  for (const t of c.turns) {
    const who = t.role === 'user' ? 'You' : t.role === 'assistant' ? 'Companion' : 'Keymate';
    const { thinking, answer } = t.role === 'assistant' ? splitThinking(t.text) : { thinking: '', answer: t.text };
    lines.push(`**${who}**${t.role === 'notice' ? ' (note)' : ''}`, '');
    if (thinking.trim() !== '') lines.push('*Thinking:*', '', quoted(thinking), '');
    lines.push(quoted(answer), '');
  }
  return lines.join('\n');
}

/**
 * A turn's text is the user's or the model's, not Markdown we vouch for: quoted as a block, so
 * a heading or a list in it stays inside its turn.
 */
function quoted(text: string): string {
  return text.trim() === '' ? '> (nothing)' : text.trim().split('\n').map((l) => `> ${l}`).join('\n');
}

function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}
