// A reasoning model's reply in two parts: what it thought and what it
// answers. Qwen3, QwQ and DeepSeek-R1 write their thinking between <think>
// and </think> before the answer; some templates (Qwen3.5's, QwQ's, R1's)
// open the block in the generation prompt, so the reply starts inside it.
// The tags themselves are never shown, nor the white space a model puts right
// after one.
//
// The split runs once per token on the path to the screen, so it costs the
// new text and no more: it never looks at the reply before it again, only at
// the few characters held back because they may be the start of a tag split
// across tokens ("<th" + "ink>").

/** Whether a piece of a reply shows anything on screen: white space alone does not (a view strips a reply's leading space). */
export function showsText(answer: string, thinking = ''): boolean {
  return answer.trim() !== '' || thinking.trim() !== '';
}

export const THINK_OPEN = '<think>';
export const THINK_CLOSE = '</think>';

export interface ThinkingParts {
  thinking: string;
  answer: string;
}

/** The reply's split as it streams: push() each token's text, end() when it is over. */
export class ThinkingSplit {
  private inside: boolean;
  /** The end of the text so far that may be the start of a tag. */
  private held = '';
  /** Right after a tag: white space here belongs to the tag's layout, not to the text. */
  private trim: boolean;
  /** Everything so far, each part without its tags. */
  thinking = '';
  answer = '';

  /** `opened`: the prompt opened the block, so the reply begins inside it. */
  constructor(opened = false) {
    this.inside = opened;
    this.trim = opened;
  }

  /** Whether the text so far ends inside a thinking block. */
  get thinkingNow(): boolean {
    return this.inside;
  }

  /** A token's text (any piece of the reply, in order): what it adds to each part. */
  push(text: string): ThinkingParts {
    const out: ThinkingParts = { thinking: '', answer: '' };
    let s = this.held + text;
    this.held = '';
    for (;;) {
      const open = s.indexOf(THINK_OPEN);
      const close = s.indexOf(THINK_CLOSE);
      const at = open < 0 ? close : close < 0 ? open : Math.min(open, close);
      if (at < 0) break;
      this.emit(s.slice(0, at), out);
      // A tag that changes nothing (a second <think>, a </think> with no block open) is still a tag: dropped.
      this.inside = at === open;
      this.trim = true;
      s = s.slice(at + (at === open ? THINK_OPEN.length : THINK_CLOSE.length));
    }
    const keep = tagStartAtEnd(s);
    this.held = s.slice(s.length - keep);
    this.emit(s.slice(0, s.length - keep), out);
    return out;
  }

  /** The reply is over: what was held back as a possible tag was text. */
  end(): ThinkingParts {
    const out: ThinkingParts = { thinking: '', answer: '' };
    this.emit(this.held, out);
    this.held = '';
    return out;
  }

  private emit(text: string, out: ThinkingParts): void {
    if (this.trim) {
      text = text.replace(/^\s+/, '');
      if (text === '') return;
      this.trim = false;
    }
    if (text === '') return;
    if (this.inside) {
      out.thinking += text;
      this.thinking += text;
    } else {
      out.answer += text;
      this.answer += text;
    }
  }
}

/** A whole reply's two parts (a saved turn's, say). */
export function splitThinking(text: string, opened = false): ThinkingParts {
  const split = new ThinkingSplit(opened);
  split.push(text);
  split.end();
  return { thinking: split.thinking, answer: split.answer };
}

/**
 * The opening tag a generation prompt ends with ("<think>\n"), when it opens
 * a thinking block for the reply; '' when it does not. Qwen3's prompt with
 * thinking off ends with a closed, empty block: that opens nothing.
 */
export function openedThinking(prompt: string): string {
  const at = prompt.lastIndexOf(THINK_OPEN);
  if (at < 0 || prompt.indexOf(THINK_CLOSE, at) >= 0) return '';
  const tail = prompt.slice(at);
  return tail.slice(THINK_OPEN.length).trim() === '' ? tail : '';
}

/** Whether a chat template reads `enable_thinking` (Qwen3's and Qwen3.5's do): the Thinking setting applies to its model. */
export function hasThinkingSwitch(chatTemplate: string): boolean {
  return chatTemplate.includes('enable_thinking');
}

/** How many characters at the end of `s` may be the start of a tag (never a whole one: that was found). */
function tagStartAtEnd(s: string): number {
  for (let k = Math.min(s.length, THINK_CLOSE.length - 1); k > 0; k--) {
    const end = s.slice(s.length - k);
    if (THINK_OPEN.startsWith(end) || THINK_CLOSE.startsWith(end)) return k;
  }
  return 0;
}
