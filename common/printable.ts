// Text from outside (a corrupt file's bytes, a device's name, a path a user
// typed) made safe for one line of a message or a terminal: control
// characters, line breaks and escapes become visible \xNN / \u{...} escapes,
// so nothing can break the one-line error contract or drive the terminal,
// and long text is cut with an ellipsis that says how much was left out.

/** Characters a one-line message may not show as they are: controls, line and paragraph separators, bidi overrides. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNSAFE = /^[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff\ufffd]$/u;

export const DEFAULT_PRINTABLE_CHARS = 80;

/** `text` escaped for one line and cut to about `max` characters (the escapes count; an escape is never cut in two). */
export function printable(text: string, max = DEFAULT_PRINTABLE_CHARS): string {
  const pieces = Array.from(text, (c) => (UNSAFE.test(c) ? escape(c) : c));
  const total = pieces.reduce((n, p) => n + p.length, 0);
  if (total <= max) return pieces.join('');
  let out = '';
  let kept = 0;
  for (const p of pieces) {
    if (out.length + p.length > max - 1) break;
    out += p;
    kept++;
  }
  return `${out}… (${pieces.length - kept} more)`;
}

function escape(c: string): string {
  const code = c.codePointAt(0) ?? 0;
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u{${code.toString(16)}}`;
}

/** printable() in double quotes: shows where the text starts and ends. */
export function quoted(text: string, max = DEFAULT_PRINTABLE_CHARS): string {
  return `"${printable(text, max)}"`;
}
