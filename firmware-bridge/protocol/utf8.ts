// Strict UTF-8 for TEXT and REPLY payloads. Strict means what RFC 3629 and the WHATWG decoder
// mean: no overlong forms, no surrogates, nothing above U+10FFFF. The C side (km_utf8.c)
// accepts exactly the same set, so a frame is valid or invalid on both ends alike. A BOM is
// kept as text (ignoreBOM), otherwise decode(encode(m)) would lose it.

const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const encoder = new TextEncoder();

/** The text, or null if the bytes are not strict UTF-8. */
export function decodeUtf8(bytes: Uint8Array): string | null {
  try {
    return decoder.decode(bytes);
  } catch {
    return null;
  }
}

/** UTF-8 of a well-formed string; a lone surrogate cannot be sent and is a caller bug. */
export function encodeUtf8(text: string): Uint8Array {
  if (!isWellFormed(text)) throw new RangeError('text: contains a lone UTF-16 surrogate');
  return encoder.encode(text);
}

export function utf8Length(text: string): number {
  return encodeUtf8(text).length;
}

function isWellFormed(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = text.charCodeAt(i + 1); // NaN past the end
      if (!(next >= 0xdc00 && next <= 0xdfff)) return false;
      i++;
    } else if (c >= 0xdc00 && c <= 0xdfff) {
      return false;
    }
  }
  return true;
}

/**
 * Splits text into pieces of at most `maxBytes` UTF-8 bytes, cutting only between code points
 * (a receiver validates each chunk on its own, so a chunk may never end mid-character).
 */
export function chunkUtf8(text: string, maxBytes: number): string[] {
  if (maxBytes < 4) throw new RangeError('chunkUtf8: maxBytes must be at least 4');
  const chunks: string[] = [];
  let current = '';
  let currentBytes = 0;
  for (const ch of text) {
    const n = utf8Length(ch);
    if (currentBytes + n > maxBytes) {
      chunks.push(current);
      current = '';
      currentBytes = 0;
    }
    current += ch;
    currentBytes += n;
  }
  if (current.length > 0 || chunks.length === 0) chunks.push(current);
  return chunks;
}
