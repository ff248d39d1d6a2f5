// The shared libraries an ELF file asks the dynamic loader for (its DT_NEEDED
// entries), read from the file itself rather than from `ldd`, which would run
// the loader and needs binutils/glibc tools on the test machine. Only what the
// packaging test needs: 64-bit little-endian ELF (x86-64, aarch64), found
// through the section headers (the dynamic section links its string table).
import * as fs from 'node:fs';

const SHT_DYNAMIC = 6;
const DT_NULL = 0n;
const DT_NEEDED = 1n;

/** Whether the file starts with the ELF magic. */
export function isElf(file: string): boolean {
  const fd = fs.openSync(file, 'r');
  try {
    const magic = Buffer.alloc(4);
    return fs.readSync(fd, magic, 0, 4, 0) === 4 && magic.equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46]));
  } finally {
    fs.closeSync(fd);
  }
}

/** The DT_NEEDED names of a 64-bit little-endian ELF file, in file order. */
export function elfNeeded(file: string): string[] {
  const b = fs.readFileSync(file);
  const bad = (what: string): never => {
    throw new Error(`${file}: ${what}`);
  };
  if (b.length < 64 || b.readUInt32BE(0) !== 0x7f454c46) bad('not an ELF file');
  if (b[4] !== 2) bad('not a 64-bit ELF file (only ELF64 is read)');
  if (b[5] !== 1) bad('not a little-endian ELF file');
  const shoff = Number(b.readBigUInt64LE(0x28));
  const shentsize = b.readUInt16LE(0x3a);
  const shnum = b.readUInt16LE(0x3c);
  if (shentsize < 64 || shoff + shnum * shentsize > b.length) bad('section headers run past the end of the file');

  const section = (i: number) => {
    const at = shoff + i * shentsize;
    return {
      type: b.readUInt32LE(at + 4),
      offset: Number(b.readBigUInt64LE(at + 24)),
      size: Number(b.readBigUInt64LE(at + 32)),
      link: b.readUInt32LE(at + 40),
    };
  };
  const needed: string[] = [];
  for (let i = 0; i < shnum; i++) {
    const dyn = section(i);
    if (dyn.type !== SHT_DYNAMIC) continue;
    if (dyn.link >= shnum) bad('the dynamic section links a string table that does not exist');
    const strtab = section(dyn.link);
    if (dyn.offset + dyn.size > b.length || strtab.offset + strtab.size > b.length) bad('the dynamic section runs past the end of the file');
    for (let at = dyn.offset; at + 16 <= dyn.offset + dyn.size; at += 16) {
      const tag = b.readBigInt64LE(at);
      if (tag === DT_NULL) break;
      if (tag !== DT_NEEDED) continue;
      const name = strtab.offset + Number(b.readBigUInt64LE(at + 8));
      const end = b.indexOf(0, name);
      if (name >= strtab.offset + strtab.size || end < 0) bad('a DT_NEEDED name lies outside its string table');
      needed.push(b.toString('utf8', name, end));
    }
  }
  return needed;
}
