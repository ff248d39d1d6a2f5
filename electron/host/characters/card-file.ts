// Character card files: JSON, or a PNG (the character's picture) that
// carries the card in tEXt chunks, as companion-chat tools share them.
//
// In a PNG the card is a tEXt chunk whose text is the card's JSON, UTF-8,
// base64: keyword `ccv3` for V3, `chara` for V2. A V3 card is written twice,
// as tools that know only V2 read `chara`: once as itself (`ccv3`) and once
// relabelled V2 (`chara`, the same data; V2 readers keep unknown fields).
// Reading prefers `ccv3`, as the V3 spec says. A V2 card is written as
// `chara` alone, so it reads back as the V2 card it was.
//
// A card file comes from anywhere: it is bounded in size, every chunk is
// checked (length inside the file, CRC), and every way it can be unusable is
// one line (CharacterCardError), never a stack trace.
import { deflateSync } from 'node:zlib';

import { type Card, cardError, parseCard } from '../../../common/contract/character';
import { printable } from '../../../common/printable';

/** Decimal megabytes, as the message words it; real cards are well under 1 MB, pictures included. */
export const CARD_FILE_LIMIT_BYTES = 10 * 1000 * 1000;

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
/** Length, type, CRC. */
const CHUNK_OVERHEAD = 12;
/** The PNG spec's bound on a chunk's length. */
const MAX_CHUNK_LENGTH = 0x7fffffff;
const CARD_KEYWORDS = ['ccv3', 'chara'] as const;

/** The card in a file's bytes: a PNG (by its signature or a .png name), otherwise JSON. */
export function readCard(bytes: Buffer, fileName: string): Card {
  return readCardText(bytes, fileName).card;
}

/** The card and its JSON text exactly as the file holds it (what an export gives back, byte for byte). */
export function readCardText(bytes: Buffer, fileName: string): { card: Card; text: string } {
  checkCardSize(bytes.length);
  if (isPng(bytes) || fileName.toLowerCase().endsWith('.png')) return readPngCard(bytes);
  const text = utf8(bytes, 'the file');
  return { card: parseCard(parseJson(text, 'the file')), text };
}

/** Throws when a card file of `size` bytes is over the limit (checked before reading it, and on what was read). */
export function checkCardSize(size: number): void {
  if (size > CARD_FILE_LIMIT_BYTES) throw cardError(`the file is ${megabytes(size)} MB; the limit is ${megabytes(CARD_FILE_LIMIT_BYTES)} MB`);
}

/** The card as a JSON file: exactly the fields it was read with, in their order. */
export function writeCardJson(card: Card): string {
  return `${JSON.stringify(card, null, 2)}\n`;
}

/**
 * `png` (or a blank 1x1 picture) with the card in it, replacing any card it
 * carried; its other chunks are kept byte for byte. `text` is the card's JSON
 * as it was read (so it goes back unchanged); by default, the card serialized.
 */
export function writeCardPng(card: Card, png?: Buffer, text: string = JSON.stringify(card)): Buffer {
  const image = png ?? blankPng();
  const chunks = readChunks(image).filter((c) => !isCardChunk(c));
  const iend = chunks.pop(); // readChunks ends at IEND
  if (iend === undefined) throw cardError('the PNG has no IEND chunk');
  const cardChunks =
    card.spec === 'chara_card_v3'
      ? [textChunk('chara', JSON.stringify({ ...card, spec: 'chara_card_v2', spec_version: '2.0' })), textChunk('ccv3', text)]
      : [textChunk('chara', text)];
  return Buffer.concat([PNG_SIGNATURE, ...chunks.map((c) => image.subarray(c.start, c.end)), ...cardChunks, image.subarray(iend.start, iend.end)]);
}

function readPngCard(png: Buffer): { card: Card; text: string } {
  const texts = readChunks(png)
    .filter((c) => c.type === 'tEXt')
    .map(parseText);
  for (const keyword of CARD_KEYWORDS) {
    const found = texts.find((t) => t?.keyword === keyword);
    if (found === undefined) continue;
    const where = `the PNG's '${keyword}' chunk`;
    const text = utf8(base64(found.text, where), where);
    return { card: parseCard(parseJson(text, where)), text };
  }
  throw cardError("the PNG carries no character card (no 'ccv3' or 'chara' text chunk)");
}

interface Chunk {
  type: string;
  data: Buffer;
  /** The whole chunk, length to CRC, as a byte range of the file. */
  start: number;
  end: number;
}

/** Every chunk up to and including IEND, each one checked; what follows IEND is not part of the image. */
function readChunks(png: Buffer): Chunk[] {
  if (!isPng(png)) throw cardError('not a PNG file (it does not start with the PNG signature)');
  const chunks: Chunk[] = [];
  let at = PNG_SIGNATURE.length;
  for (;;) {
    if (at + CHUNK_OVERHEAD > png.length) throw cardError(`the PNG is truncated: it ends at byte ${png.length}, before its IEND chunk`);
    const length = png.readUInt32BE(at);
    const type = png.toString('latin1', at + 4, at + 8);
    if (!/^[A-Za-z]{4}$/.test(type)) throw cardError(`the PNG is damaged: the chunk at byte ${at} has no valid type`);
    const end = at + CHUNK_OVERHEAD + length;
    if (length > MAX_CHUNK_LENGTH || end > png.length) {
      throw cardError(`the PNG is truncated: its ${type} chunk at byte ${at} needs ${length} bytes, past the end of the file`);
    }
    if (crc32(png.subarray(at + 4, end - 4)) !== png.readUInt32BE(end - 4)) {
      throw cardError(`the PNG is damaged: its ${type} chunk at byte ${at} fails its CRC check`);
    }
    chunks.push({ type, data: png.subarray(at + 8, end - 4), start: at, end });
    if (type === 'IEND') return chunks;
    at = end;
  }
}

/** A tEXt chunk's keyword and text (both Latin-1); undefined for one without the NUL separator, which is not ours to judge. */
function parseText(chunk: Chunk): { keyword: string; text: string } | undefined {
  const nul = chunk.data.indexOf(0);
  if (nul < 0) return undefined;
  return { keyword: chunk.data.toString('latin1', 0, nul), text: chunk.data.toString('latin1', nul + 1) };
}

function isCardChunk(chunk: Chunk): boolean {
  const text = chunk.type === 'tEXt' ? parseText(chunk) : undefined;
  return text !== undefined && (CARD_KEYWORDS as readonly string[]).includes(text.keyword);
}

function textChunk(keyword: string, json: string): Buffer {
  return chunk('tEXt', Buffer.concat([Buffer.from(keyword, 'latin1'), Buffer.from([0]), Buffer.from(Buffer.from(json, 'utf8').toString('base64'), 'latin1')]));
}

function chunk(type: string, data: Buffer): Buffer {
  const out = Buffer.alloc(CHUNK_OVERHEAD + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  data.copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

/** One transparent pixel: the picture when a card is exported without one. */
function blankPng(): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(1, 0); // width
  header.writeUInt32BE(1, 4); // height
  header[8] = 8; // bits per channel
  header[9] = 6; // colour type: RGBA
  // compression, filter and interlace methods stay 0, the only ones defined
  const scanline = Buffer.from([0, 0, 0, 0, 0]); // filter type none, then R G B A
  return Buffer.concat([PNG_SIGNATURE, chunk('IHDR', header), chunk('IDAT', deflateSync(scanline)), chunk('IEND', Buffer.alloc(0))]);
}

function isPng(bytes: Buffer): boolean {
  return bytes.length >= PNG_SIGNATURE.length && bytes.subarray(0, PNG_SIGNATURE.length).equals(PNG_SIGNATURE);
}

/**
 * Strict base64: Buffer.from(…, 'base64') skips characters it does not know,
 * which would turn a damaged chunk into a different card instead of an error.
 * Padding may be left off, as some writers do.
 */
function base64(text: string, where: string): Buffer {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 === 1) throw cardError(`${where} is not valid base64`);
  return Buffer.from(text, 'base64');
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

function utf8(bytes: Buffer, where: string): string {
  try {
    // A byte-order mark is not part of the JSON.
    return UTF8.decode(bytes).replace(/^\ufeff/, '');
  } catch {
    throw cardError(`${where} is not valid UTF-8 text`);
  }
}

function parseJson(text: string, where: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw cardError(`${where} is not valid JSON (${printable(e instanceof Error ? e.message : String(e))})`);
  }
}

/** 10.5 for 10,500,000 bytes: rounded up, so a file just over the limit never reads as the limit. */
function megabytes(n: number): string {
  return String(Math.ceil(n / 100_000) / 10);
}

const CRC_TABLE = Uint32Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c;
});

/** CRC-32 (ISO-HDLC, reflected, polynomial 0xEDB88320): the one PNG chunks carry. Exposed for tests. */
export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = (CRC_TABLE[(c ^ b) & 0xff] ?? 0) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
