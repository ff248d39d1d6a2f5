// A conversation written out for the user: Markdown to read (each turn under
// who said it, the reply's other versions left out) or JSON with every field
// (the same document the data folder holds, without the file's envelope).
import type { Conversation, ConversationExport } from '../../../common/contract/conversation';

export function exportConversation(c: Conversation, format: 'markdown' | 'json'): ConversationExport {
  const base = fileBase(c);
  if (format === 'json') return { file_name: `${base}.json`, mime: 'application/json', text: `${JSON.stringify(c, null, 2)}\n` };
  return { file_name: `${base}.md`, mime: 'text/markdown', text: markdown(c) };
}

function markdown(c: Conversation): string {
  const lines = [`# ${oneLine(c.title === '' ? 'Conversation' : c.title)}`, '', `*${new Date(c.created_ms).toISOString()}*`, ''];
  for (const t of c.turns) {
    const who = t.role === 'user' ? 'You' : t.role === 'assistant' ? 'Companion' : 'Keymate';
    // A turn's text is the user's or the model's, not Markdown we vouch for: quoted as a block, so
    // a heading or a list in it stays inside its turn.
    const body = t.text.trim() === '' ? '> (nothing)' : t.text.trim().split('\n').map((l) => `> ${l}`).join('\n');
    lines.push(`**${who}**${t.role === 'notice' ? ' (note)' : ''}`, '', body, '');
  }
  return lines.join('\n');
}

/** The title as a file name: letters, digits and dashes, never empty, never a path. */
function fileBase(c: Conversation): string {
  const slug = c.title
    .normalize('NFKD')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 60);
  return `keymate-${slug === '' ? c.id : slug}`;
}

function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}
