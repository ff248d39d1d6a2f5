// The imported characters: in <home>/characters, one versioned JSON file
// each, holding the card's JSON text exactly as it was imported (an export
// gives it back byte for byte), and beside it the card's picture when it came
// as a PNG. The Character Keymate runs is made from the card at open.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { z } from 'zod';

import { type Character, type CardExport, type CharacterSummary, characterFromCard, parseCard } from '../../../common/contract/character';
import { syncFolder, writeFileAtomic } from '../storage/atomic-file';
import { fileSlug } from '../storage/file-slug';
import { checkRegularFile } from '../storage/regular-file';
import { loadVersioned, saveVersioned, type VersionedFormat } from '../storage/versioned-file';
import { checkCardSize, readCardText, writeCardPng } from './card-file';

const CharacterFile = z.strictObject({
  id: z.string().regex(/^k[0-9a-z]+-[0-9a-z]+$/),
  imported_ms: z.number(),
  /** The file it came from, for the export's name. */
  file_name: z.string(),
  /** The card's JSON, as the file held it. */
  card_text: z.string(),
  has_image: z.boolean(),
});
type CharacterFile = z.infer<typeof CharacterFile>;

const characterFormat: VersionedFormat<CharacterFile> = {
  kind: 'character',
  version: 1,
  schema: CharacterFile,
  migrations: [],
  defaults: () => ({ id: 'k0-0', imported_ms: 0, file_name: '', card_text: '', has_image: false }),
};

interface Kept {
  file: CharacterFile;
  character: Character;
}

export class CharacterStore {
  private made = 0;

  private constructor(
    readonly dir: string,
    private readonly all: Map<string, Kept>,
    /** Files set aside at open, with why. */
    readonly problems: string[],
  ) {}

  static async open(home: string): Promise<CharacterStore> {
    const dir = path.join(home, 'characters');
    await fs.mkdir(dir, { recursive: true });
    const all = new Map<string, Kept>();
    const problems: string[] = [];
    for (const name of (await fs.readdir(dir)).sort()) {
      if (!/^k[0-9a-z]+-[0-9a-z]+\.json$/.test(name)) continue;
      const loaded = await loadVersioned(path.join(dir, name), characterFormat);
      if (loaded.status === 'kept-aside') {
        problems.push(`character ${name}: ${loaded.problem ?? 'unreadable'} (kept as ${loaded.keptAs ?? '?'})`);
        continue;
      }
      try {
        all.set(loaded.data.id, kept(loaded.data));
      } catch (e) {
        problems.push(`character ${name}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    return new CharacterStore(dir, all, problems);
  }

  list(): CharacterSummary[] {
    return [...this.all.values()].sort((a, b) => a.character.name.localeCompare(b.character.name)).map(summary);
  }

  get(id: string): Character {
    const k = this.all.get(id);
    if (k === undefined) throw new Error(`character ${id}: there is no such character`);
    return k.character;
  }

  /** Reads a card file (JSON or PNG), checks it, and keeps it. */
  async import(file: string, now: number = Date.now()): Promise<CharacterSummary> {
    const resolved = path.resolve(file);
    const stat = await checkRegularFile(resolved, 'character card');
    checkCardSize(stat.size);
    const bytes = await fs.readFile(resolved);
    const { card, text } = readCardText(bytes, resolved);
    this.made++;
    const id = `k${now.toString(36)}-${this.made.toString(36)}`;
    const hasImage = text !== '' && isPng(bytes);
    const record: CharacterFile = { id, imported_ms: now, file_name: path.basename(resolved), card_text: text, has_image: hasImage };
    if (hasImage) await writeFileAtomic(path.join(this.dir, `${id}.png`), bytes);
    await saveVersioned(path.join(this.dir, `${id}.json`), characterFormat, record);
    const k = { file: record, character: characterFromCard(card, { id }) };
    this.all.set(id, k);
    return summary(k);
  }

  /** The card as a file: JSON (the text it was imported as) or PNG (its picture, or a blank one). */
  async export(id: string, format: 'json' | 'png'): Promise<CardExport> {
    const k = this.all.get(id);
    if (k === undefined) throw new Error(`character ${id}: there is no such character`);
    const base = fileSlug(k.character.name, 'character');
    if (format === 'json') return { file_name: `${base}.json`, mime: 'application/json', data_base64: Buffer.from(k.file.card_text, 'utf8').toString('base64') };
    const picture = k.file.has_image ? await fs.readFile(path.join(this.dir, `${id}.png`)) : undefined;
    return { file_name: `${base}.png`, mime: 'image/png', data_base64: writeCardPng(k.character.card, picture, k.file.card_text).toString('base64') };
  }

  async delete(id: string): Promise<void> {
    const k = this.all.get(id);
    if (k === undefined) throw new Error(`character ${id}: there is no such character`);
    this.all.delete(id);
    await fs.rm(path.join(this.dir, `${id}.json`), { force: true });
    await fs.rm(path.join(this.dir, `${id}.png`), { force: true });
    await syncFolder(this.dir);
  }
}

function kept(file: CharacterFile): Kept {
  return { file, character: characterFromCard(parseCard(JSON.parse(file.card_text)), { id: file.id }) };
}

function summary(k: Kept): CharacterSummary {
  const c = k.character;
  return { id: c.id, name: c.name, greeting: c.greeting, tags: c.card.data.tags, has_image: k.file.has_image };
}

function isPng(bytes: Buffer): boolean {
  return bytes.length >= 8 && bytes.readUInt32BE(0) === 0x89504e47;
}
